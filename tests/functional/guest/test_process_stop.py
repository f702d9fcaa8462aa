"""The process runtime's stop path with real child processes (fake
chmpx/k2hdkc that crash like chmpx 1.0.109 on an early SIGHUP,
doc/ring-procedures.md §9)."""

from __future__ import annotations

import logging
import os
import socket

import pytest

from tests.functional.guest import fake_node
from tests.standins.dataplane import harness
from trove_k2hdkc.guest.runtime.process import ProcessRuntime


def _selfstatus(port: int) -> str:
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=1) as s:
            s.sendall(b'SELFSTATUS\n')
            return s.makefile().read()
    except OSError:
        return ''


@pytest.fixture
def node(tmp_path, monkeypatch):
    bindir, state = fake_node.install(tmp_path)
    monkeypatch.setenv('FAKE_STATE', str(state))
    env = dict(os.environ, PATH=str(bindir) + os.pathsep + os.environ['PATH'])
    port = harness.free_port()
    made = []

    def make(detached: bool, detach_wait: float, **fake_env: str):
        runtime = ProcessRuntime(
            tmp_path / 'node.ini', port, run_dir=tmp_path / 'run',
            log_dir=tmp_path / 'log', env=dict(env, **fake_env),
            ready=lambda: _selfstatus(port) != '',
            detached=((lambda: '[Suspend]' in _selfstatus(port))
                      if detached else None),
            detach_wait=detach_wait, stop_timeout=5)
        made.append(runtime)
        return runtime
    yield make, state
    for runtime in made:
        runtime.close()
        runtime.stop()


@pytest.mark.parametrize('repeat', range(3))
def test_stop_waits_for_the_detach_before_sighup(node, caplog, repeat):
    make, state = node
    runtime = make(detached=False, detach_wait=1.2)
    runtime.start()
    fake_node.wait_started(state)
    runtime.stop()
    assert fake_node.hup_gap(state) >= 1.1
    assert 'SIGSEGV' not in caplog.text
    assert runtime.running() == {'chmpx': False, 'k2hdkc': False}


def test_restart_chmpx_waits_for_suspend(node):
    make, state = node
    runtime = make(detached=True, detach_wait=10, FAKE_SUSPEND='1',
                   FAKE_CRASH='never')
    runtime.start()
    fake_node.wait_started(state)
    runtime.restart_chmpx()
    assert 0 < fake_node.hup_gap(state) < 5
    assert runtime.running() == {'chmpx': True, 'k2hdkc': False}


def test_sigsegv_on_sighup_counts_as_stopped(node, caplog):
    caplog.set_level(logging.INFO)
    make, _ = node
    runtime = make(detached=False, detach_wait=0, FAKE_CRASH='always')
    runtime.start()
    runtime.stop()
    assert runtime.running() == {'chmpx': False, 'k2hdkc': False}
    [record] = [r for r in caplog.records if 'SIGSEGV' in r.getMessage()]
    assert record.levelno == logging.WARNING
