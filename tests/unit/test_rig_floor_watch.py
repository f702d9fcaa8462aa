"""The floor's hand-driven grow survives a hung merge as an operator
following doc/ring-procedures.md §8 would, and reports the hang.

``ScriptedRing`` is the floor's ring with chmpx/k2hdkc replaced by a
status table that answers the control port the way the real programs
did when a merge hung: the joining node stays [ADD][Doing] while the
others reach [Done], and only an ABORTMERGE or a k2hdkc restart moves it.
"""

from __future__ import annotations

import os

import pytest

from tests.rig import bench
from tests.rig import binaries
from tests.rig import dataset
from tests.rig import floor
from tests.standins.dataplane import faults

SUSPEND = 0x10000
PENDING, DOING, DONE = 0x1000, 0x2000, 0x3000


def _operate(code: int) -> int:
    return code & 0xF000


@pytest.fixture(autouse=True)
def _quick(monkeypatch):
    monkeypatch.setattr(floor, 'POLL', 0.01)
    monkeypatch.setattr(floor, 'ABORT_SETTLE', 0.5)
    # a ScriptedRing's control port is its status table
    real = floor.harness.LocalRing.ctl
    monkeypatch.setattr(
        floor.harness.LocalRing, 'ctl',
        lambda self, num, command: self.answer(num, command)
        if isinstance(self, ScriptedRing) else real(self, num, command))


class ScriptedRing(floor.Ring):
    """Four servers, 1-3 healthy, 4 about to join; no processes.

    ``hangs``: how many MERGEs hang (``hanger`` stays in Doing);
    ``hang_until_restart``: a hang outlives aborts until every stuck
    responder's k2hdkc was restarted; ``deaf_to_abort``: nodes where an
    ABORTMERGE changes nothing (sent to the stuck node it does nothing);
    ``sighup_ignored``: nodes whose k2hdkc, once wedged in a merge,
    must be killed.
    """

    def __init__(self, tmp_path, hangs: int = 0, hanger: int = 4,
                 hang_until_restart: bool = False,
                 deaf_to_abort: frozenset[int] = frozenset(),
                 sighup_ignored: frozenset[int] = frozenset()) -> None:
        super().__init__(tmp_path, '/bin', servers=4)
        self.hang_after = 0.3
        self.code = {1: 0x21, 2: 0x21, 3: 0x21, 4: 0x10}
        self.members = [1, 2, 3]
        self.hangs_left = hangs
        self.hanger = hanger
        self.hang_until_restart = hang_until_restart
        self.deaf_to_abort = deaf_to_abort
        self.sighup_ignored = sighup_ignored
        self.hanging = False
        self.restarted: list[tuple[int, str]] = []
        self.sent: list[tuple[object, str]] = []

    # -- the control port -------------------------------------------------

    def answer(self, num, command: str) -> str:
        cmd = command.split()[0]
        self.sent.append((num, cmd))
        self._progress()
        if cmd == 'SELFSTATUS':
            return self._line(num)
        if cmd == 'ALLSTATUS':
            return ''.join(self._line(n) for n in self.members)
        if cmd == 'SERVICEIN':
            self.code[num] = 0x1121
        elif cmd == 'MERGE':
            self._take_merge()
        elif cmd == 'ABORTMERGE':
            self._take_abort(num)
        elif cmd == 'COMPMERGE':
            for n, c in self.code.items():
                if _operate(c) == DONE:
                    self.code[n] = 0x21
        return 'SUCCEED\n'

    def _line(self, num) -> str:
        return ' Server Status = 0x%x(SAFE)\n' % self.code[num]

    def _take_merge(self) -> None:
        for n in self.members:
            if _operate(self.code[n]) == PENDING:
                self.code[n] += DOING - PENDING
        self.hanging = (self.hangs_left > 0
                        and _operate(self.code[self.hanger]) == DOING)
        self.hangs_left -= self.hanging

    def _progress(self) -> None:
        """Doing -> Done on the next look, except a hanging ``hanger``."""
        for n in self.members:
            if _operate(self.code[n]) != DOING:
                continue
            if self.hanging and n == self.hanger:
                continue
            self.code[n] += DONE - DOING

    def _take_abort(self, num) -> None:
        if num in self.deaf_to_abort:
            return
        for n in self.members:
            if _operate(self.code[n]) in (DOING, DONE):
                self.code[n] = (self.code[n] & ~0xF000) | PENDING
        self.hanging = False

    # -- processes -----------------------------------------------------------

    def start_chmpx(self, num):
        if num != 'slave':
            self.restarted.append((num, 'chmpx'))
            if self.code[num] == 0x10:
                self.code[num] = 0x11

    def start_k2hdkc(self, num):
        self.restarted.append((num, 'k2hdkc'))
        if self.code[num] & SUSPEND:
            self.code[num] &= ~SUSPEND
            if self.code[num] == 0x21:
                self.code[num] = 0x1021

    def stop(self, num, prog, sig=None):
        self.restarted.append((num, 'stop ' + prog))
        if prog == 'k2hdkc':
            wedged = _operate(self.code[num]) != 0
            self.code[num] |= SUSPEND
            if wedged and num in self.sighup_ignored:
                return -9
        return 0

    def restart_responder(self, num):
        super().restart_responder(num)
        if self.hang_until_restart:
            self.hangs_left = 0


def _aborts(ring: ScriptedRing) -> list[object]:
    return [num for num, cmd in ring.sent if cmd == 'ABORTMERGE']


def test_a_grow_whose_merge_hangs_once_aborts_and_merges_again(tmp_path):
    ring = ScriptedRing(tmp_path, hangs=1)
    ring.grow(4)
    assert ring.code == {1: 0x21, 2: 0x21, 3: 0x21, 4: 0x21}
    # the stuck responders are the Done nodes 1-3: the abort goes to 4
    assert _aborts(ring) == [4]
    assert [cmd for _, cmd in ring.sent].count('MERGE') == 2
    assert len(ring.hangs.seen) == 1
    assert 'node 4 0x2121' in ring.hangs.seen[0]
    assert ring.hangs.lost >= ring.hang_after


def test_a_clean_grow_reports_no_hang(tmp_path):
    ring = ScriptedRing(tmp_path)
    ring.grow(4)
    assert ring.hangs == floor.Hangs()
    assert not _aborts(ring)


def test_an_abort_that_changes_nothing_is_sent_to_another_node(tmp_path):
    ring = ScriptedRing(tmp_path, hangs=1, deaf_to_abort=frozenset({4}))
    ring.grow(4)
    assert _aborts(ring) == [4, 1]
    assert ring.code[4] == 0x21


def test_a_second_hang_restarts_the_stuck_responders(tmp_path):
    ring = ScriptedRing(tmp_path, hangs=3, hang_until_restart=True)
    ring.grow(4)
    assert len(ring.hangs.seen) == 2
    # §9 order per stuck responder (1-3 were Done), chmpx left alone
    assert ring.restarted[-6:] == [(1, 'stop k2hdkc'), (1, 'k2hdkc'),
                            (2, 'stop k2hdkc'), (2, 'k2hdkc'),
                            (3, 'stop k2hdkc'), (3, 'k2hdkc')]
    assert ring.code == {1: 0x21, 2: 0x21, 3: 0x21, 4: 0x21}


def test_a_killed_k2hdkc_comes_back_over_a_restarted_chmpx(tmp_path):
    ring = ScriptedRing(tmp_path, hangs=3, hang_until_restart=True,
                        sighup_ignored=frozenset({2}))
    ring.grow(4)
    two = [what for num, what in ring.restarted if num == 2]
    assert two[-4:] == ['stop k2hdkc', 'stop chmpx', 'chmpx', 'k2hdkc']
    assert ring.code[2] == 0x21


def test_a_third_hang_fails_naming_the_codes(tmp_path):
    ring = ScriptedRing(tmp_path, hangs=3)
    with pytest.raises(AssertionError, match='hung 3 times.*node 4 0x2121'):
        ring.grow(4)


def test_a_purge_merge_that_hangs_is_recovered(tmp_path):
    ring = ScriptedRing(tmp_path, hanger=2)
    ring.grow(4)
    for node in ring.nodes:
        node['k2hfile'].write_bytes(b'')
    ring.hangs_left = 1
    ring.purge()
    assert ring.code == {1: 0x21, 2: 0x21, 3: 0x21, 4: 0x21}
    assert len(ring.hangs.seen) == 1
    # the stuck responders are 2's peers: the abort goes to 2 itself
    assert _aborts(ring) == [2]


def test_the_hang_bound_grows_with_the_keys_per_member():
    assert floor.hang_bound(10000) == 15.0
    assert floor.hang_bound(100000) > floor.hang_bound(10000)


def _floor(ring_hangs: floor.Hangs | None = None) -> floor.Floor:
    report = dataset.Report(10, (), (), (), transient=('key-1',))
    return floor.Floor(10, 5.0, 40.0, 3.0, 4.0, report,
                       ring_hangs or floor.Hangs(), floor.Hangs())


def test_the_figures_say_what_hangs_cost(capsys):
    hung = _floor(floor.Hangs(('node 4 0x2121',), 30.0))
    assert hung.clean_ring == 10.0
    floor.show(hung)
    out = capsys.readouterr().out
    assert 'ring converged (with recovery)' in out
    assert 'ring converged (hang time removed)' in out
    assert '1 merge hang(s), 30.0 s lost' in out
    assert 'read only on a re-read: key-1' in out
    bench.show_grow(10, {'load': 1.0, 'ring': 20.0, 'read': 30.0,
                         'active': 40.0, 'report': 'ok'}, hung)
    out = capsys.readouterr().out
    assert 'ring converged (4 x 0x21) (floor with recovery)' in out
    assert 'ring converged (4 x 0x21) (floor hangs removed)' in out
    assert '2.0x' in out     # 20 s of Trove against 10 s of clean floor


def test_a_floor_without_hangs_shows_the_plain_figure(capsys):
    floor.show(_floor())
    out = capsys.readouterr().out
    assert 'grow 3 -> 4, ring converged  ' in out
    assert 'with recovery' not in out
    assert 'no merge hang' in out


# -- the same on the data-plane stand-ins, which hang like the real ring --

STAND_INS = os.pathsep.join([str(binaries.STANDIN_BIN), '/usr/bin', '/bin'])


@pytest.mark.parametrize('fault, hangs, chmpx_restarted', [
    (faults.hang_merge('joining'), 1, False),
    (faults.hang_merge('joining', times=2, clears='restart'), 2, False),
    (faults.hang_merge('joining', times=2, clears='restart',
                       stubborn=True), 2, True)])
def test_the_floor_grows_a_stand_in_ring_through_a_hung_merge(
        tmp_path, fault, hangs, chmpx_restarted):
    keys = {'%d-key' % i: 'value%d' % i for i in range(40)}
    with floor.Ring(tmp_path, STAND_INS, hang_after=1.5, servers=4) as ring:
        ring.bootstrap(3)
        ring.linetool(['set %s %s' % kv for kv in keys.items()])
        chmpx = [ring.procs[(str(n), 'chmpx')].pid for n in (1, 2, 3)]
        faults.write(ring.faults_path, hang_merge=fault)
        ring.grow(4)
        assert len(ring.hangs.seen) == hangs
        assert 'node 4 0x2121' in ring.hangs.seen[0]
        assert ring.readable(keys) == len(keys)
        now = [ring.procs[(str(n), 'chmpx')].pid for n in (1, 2, 3)]
        assert (now != chmpx) == chmpx_restarted


@pytest.mark.parametrize('command', ['SERVICEIN', 'COMPMERGE'])
def test_a_command_whose_reply_never_came_is_judged_by_status(
        tmp_path, command):
    """Real chmpx left a SERVICEIN (bootstrap) and a COMPMERGE (purge)
    unanswered for 5 s although they took effect."""
    class Silent(ScriptedRing):
        def answer(self, num, cmd):
            reply = super().answer(num, cmd)
            if cmd == command and cmd not in self.silent:
                self.silent.add(cmd)
                raise TimeoutError('timed out')
            return reply
    ring = Silent(tmp_path)
    ring.silent = set()
    ring.grow(4)
    assert ring.code == {1: 0x21, 2: 0x21, 3: 0x21, 4: 0x21}
    assert ring.silent == {command}


def test_an_unanswered_merge_command_of_another_kind_still_fails(tmp_path):
    class Silent(ScriptedRing):
        def answer(self, num, cmd):
            if cmd.startswith('SERVICEOUT'):
                raise TimeoutError('timed out')
            return super().answer(num, cmd)
    with pytest.raises(TimeoutError):
        Silent(tmp_path).ctl(1, 'SERVICEOUT x')
