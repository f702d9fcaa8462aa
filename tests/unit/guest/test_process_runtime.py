"""The process runtime's wait before chmpx's SIGHUP (doc/ring-procedures.md
§9), against a fake clock, and its stop order against fake processes."""

from __future__ import annotations

import signal

import pytest

from trove_k2hdkc.guest.runtime import process


class Clock:
    def __init__(self):
        self.now = 100.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_wait_ends_when_chmpx_reports_the_detach():
    clock = Clock()
    answers = iter([False, False, True])
    assert process.wait_detached(lambda: next(answers), 2.0, clock=clock,
                                 sleep=clock.sleep, poll=0.1)
    assert clock.now == pytest.approx(100.2)


def test_wait_is_bounded_when_chmpx_never_reports_it():
    clock = Clock()
    assert not process.wait_detached(lambda: False, 2.0, clock=clock,
                                     sleep=clock.sleep, poll=0.3)
    assert clock.now == pytest.approx(102.0)


def test_without_a_probe_the_whole_bound_is_waited():
    clock = Clock()
    assert not process.wait_detached(None, 2.0, clock=clock,
                                     sleep=clock.sleep)
    assert clock.now == pytest.approx(102.0)


class FakeProc:
    """A process that ends on the first signal, with ``status``."""

    def __init__(self, name, events, status=0, adopted=False):
        self.name = name
        self.pid = 4242
        self.events = events
        self.status = status
        self.adopted = adopted
        self.running = True
        self.started_at = 0.0

    def alive(self):
        return self.running

    def signal(self, sig):
        self.events.append((self.name, signal.Signals(sig).name))
        self.running = False

    def wait(self, timeout):
        return not self.running

    def exit_status(self):
        return None if self.adopted else self.status


def runtime_with(tmp_path, events, chmpx_status=0, adopted=False):
    def detached():
        events.append('detached?')
        return ('k2hdkc', 'SIGHUP') in events
    rt = process.ProcessRuntime(tmp_path / 'n.ini', 8021,
                                run_dir=tmp_path, log_dir=tmp_path,
                                detached=detached, detach_wait=5)
    rt._procs = {
        'chmpx': FakeProc('chmpx', events, chmpx_status, adopted),
        'k2hdkc': FakeProc('k2hdkc', events, adopted=adopted)}
    return rt


@pytest.mark.parametrize('action,args', [
    ('stop', ()), ('upgrade', ('v2',)), ('restart_chmpx', ())])
def test_every_stop_of_chmpx_asks_for_the_detach_first(tmp_path, action,
                                                       args):
    events = []
    rt = runtime_with(tmp_path, events)
    rt._start_chmpx = lambda: events.append('start chmpx')
    rt.start = lambda: events.append('start')
    getattr(rt, action)(*args)
    rt.close()
    assert events[:3] == [('k2hdkc', 'SIGHUP'), 'detached?',
                          ('chmpx', 'SIGHUP')]


def test_sigsegv_at_stop_is_a_warning_not_an_error(tmp_path, caplog):
    caplog.set_level('INFO')
    rt = runtime_with(tmp_path, [], chmpx_status=-signal.SIGSEGV)
    rt.stop()
    [record] = [r for r in caplog.records if 'SIGSEGV' in r.getMessage()]
    assert record.levelname == 'WARNING'
    assert rt.running() == {'chmpx': False, 'k2hdkc': False}


def test_adopted_processes_stop_without_an_exit_status(tmp_path, caplog):
    caplog.set_level('INFO')
    rt = runtime_with(tmp_path, [], adopted=True)
    rt.stop()
    assert 'chmpx (pid 4242) stopped.' in caplog.text
