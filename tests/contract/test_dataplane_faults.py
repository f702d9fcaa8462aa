"""Contract: the real chmpx/k2hdkc failures the stand-ins reproduce.

A merge hung in [Doing] (joining, existing and purging node), a slow
control-port reply, and the chmpx SIGHUP crash (doc/ring-procedures.md
§8, §9); status strings and replies are checked against the captures.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import re
import signal
import threading
import time

import pytest

from tests.standins.dataplane import chmpx_main
from tests.standins.dataplane import faults
from tests.standins.dataplane import harness
from tests.standins.dataplane import store

CP = 'chmpx/control_port'
STATUS = re.compile(r'Server Status\s*= (0x[0-9a-f]+)(\(.*\))$')
KEYS = {'%d-key' % i: 'value%d' % i for i in range(40)}  # spread by FNV
HUNG_FOR = 1.5  # a merge takes ~0.1 s here: 1.5 s in [Doing] is a hang


@pytest.fixture(scope='module')
def captured(reference_dir) -> dict[int, str]:
    """Every ``Server Status`` value in the captures, by code."""
    out = {}
    for path in (reference_dir / CP).rglob('*.txt'):
        for line in path.read_text().splitlines():
            m = STATUS.search(line.strip())
            if m:
                out[int(m.group(1), 16)] = m.group(1) + m.group(2)
    # [n/a][Doing] was never captured: the [ADD] capture with [n/a]
    out.setdefault(0x2021, out[0x2121].replace('0x2121', '0x2021')
                   .replace('[ADD]', '[n/a]'))
    return out


def _reply(reference_dir, rel: str) -> str:
    return (reference_dir / CP / rel).read_text()


def statuses(ring, via) -> list[str]:
    return [m.group(1) + m.group(2) for m in (
        STATUS.search(ln.strip())
        for ln in ring.ctl(via, 'ALLSTATUS').splitlines()) if m]


def assert_statuses(ring, via, codes: list[int], captured) -> None:
    """ALLSTATUS on ``via`` shows ``codes``, worded as in the captures."""
    ring.wait_all(codes, via=via)
    assert statuses(ring, via) == [captured[c] for c in codes]


def assert_stays(ring, via, codes: list[int]) -> None:
    time.sleep(HUNG_FOR)
    assert harness.status_codes(ring.ctl(via, 'ALLSTATUS')) == codes


def stuck(ring, event: dict, role: str) -> tuple[int, int]:
    """(requester, responder) node numbers of a hang_merge event."""
    assert event['fault'] == 'hang_merge' and event['role'] == role
    by_port = {n['ctlport']: i for i, n in enumerate(ring.nodes, 1)}
    return (by_port[event['requester']['ctlport']],
            by_port[event['responder']['ctlport']])


def test_hang_on_joining_node_until_responder_restarts(
        tmp_path, reference_dir, captured):
    """The real grow: new node 0x2121 for ever, the others 0x3021; the
    retry hangs again; restarting the stuck responder's k2hdkc heals."""
    abort_reply = _reply(reference_dir, 'scalein_node4_manual_abort/'
                         '05_node1_ABORTMERGE_right_after_MERGE.txt')
    with harness.LocalRing(tmp_path, servers=4) as ring:
        ring.bootstrap(3)
        ring.linetool(['set %s %s' % kv for kv in KEYS.items()])
        faults.write(ring.faults_path, hang_merge=faults.hang_merge(
            'joining', clears='restart'))
        ring.prepare_grow(4)
        assert ring.ctl(1, 'MERGE') == _reply(
            reference_dir, 'scalein_node4_manual_abort/04_node1_MERGE.txt')
        hung = [0x3021] * 3 + [0x2121]
        assert_statuses(ring, 1, hung, captured)
        assert_stays(ring, 2, hung)
        [event] = faults.events(ring.faults_path)
        requester, responder = stuck(ring, event, 'joining')
        assert requester == 4 and responder in (1, 2, 3)

        # ABORTMERGE sent to the stuck node does nothing
        assert ring.ctl(4, 'ABORTMERGE') == abort_reply
        assert_stays(ring, 1, hung)
        # via another node, every node goes back to [Pending]
        assert ring.ctl(2, 'ABORTMERGE') == abort_reply
        assert_statuses(ring, 2, [0x1021] * 3 + [0x1121], captured)
        # the stuck responder still is: the retry hangs the same way
        assert ring.ctl(2, 'MERGE') == 'SUCCEED\n'
        assert_statuses(ring, 1, hung, captured)
        assert_stays(ring, 3, hung)

        assert ring.ctl(3, 'ABORTMERGE') == abort_reply
        ring.wait_all([0x1021] * 3 + [0x1121], via=3)
        ring.restart_k2hdkc(responder, suspended=0x11021)
        assert ring.ctl(3, 'MERGE') == 'SUCCEED\n'
        assert_statuses(ring, 3, [0x3021] * 3 + [0x3121], captured)
        assert ring.ctl(3, 'COMPMERGE') == 'SUCCEED\n'
        ring.wait_all([harness.HEALTHY] * 4, via='slave')
        assert ring.readable(KEYS) == len(KEYS)
        assert len(faults.events(ring.faults_path)) == 1


def test_hang_on_existing_node_clears_on_abort(
        tmp_path, reference_dir, captured):
    """A shrink whose existing member hangs 0x2021; ABORTMERGE via
    another node drops the leaver's [DELETE]; the retry completes."""
    with harness.LocalRing(tmp_path, servers=4) as ring:
        ring.bootstrap(4)
        ring.linetool(['set %s %s' % kv for kv in KEYS.items()])
        faults.write(ring.faults_path,
                     hang_merge=faults.hang_merge('existing'))
        rest = ring.prepare_shrink(4)
        assert ring.ctl(1, 'MERGE') == 'SUCCEED\n'
        harness.wait_for(lambda: faults.events(ring.faults_path), 10,
                         'the fault to fire')
        [event] = faults.events(ring.faults_path)
        requester, responder = stuck(ring, event, 'existing')
        assert requester in rest and responder in rest
        hung = [0x2021 if n == requester else 0x3021 for n in rest]
        assert_statuses(ring, 1, hung + [0x3221], captured)
        assert_stays(ring, responder, hung + [0x3221])

        via = next(n for n in rest if n != requester)
        assert ring.ctl(via, 'ABORTMERGE') == 'SUCCEED\n'
        # [DELETE][Pending] turned into [n/a][Pending]
        assert_statuses(ring, via, [0x1021] * 4, captured)
        # the leaver's own view may lag the abort by a status exchange
        harness.wait_for(lambda: ring.serviceout(via, 4) == 'SUCCEED\n', 5,
                         'SERVICEOUT of node 4 again')
        ring.wait_self(4, 0x1221)
        assert ring.ctl(requester, 'MERGE') == 'SUCCEED\n'  # not stuck now
        assert_statuses(ring, via, [0x3021] * 3 + [0x3221], captured)
        assert ring.ctl(via, 'COMPMERGE') == 'SUCCEED\n'
        ring.wait_all([harness.HEALTHY] * 3 + [0x11], via=via)
        assert ring.stop_node(4) == 0
        ring.write_configs(rest)
        ring.wait_all([harness.HEALTHY] * 3, via='slave')
        assert ring.readable(KEYS) == len(KEYS)


def test_hang_on_purging_node_with_stubborn_responder(
        tmp_path, reference_dir, captured):
    """A node refilling an empty file merges alone and stays 0x2021; the
    stuck responder's k2hdkc ignores SIGHUP and its chmpx takes no new
    k2hdkc until chmpx restarts (doc/ring-procedures.md §8)."""
    with harness.LocalRing(tmp_path, servers=3) as ring:
        ring.bootstrap(3)
        ring.linetool(['set %s %s' % kv for kv in KEYS.items()])
        faults.write(ring.faults_path, hang_merge=faults.hang_merge(
            'purging', clears='restart', stubborn=True))
        ring.empty_k2hdkc(1)
        assert ring.ctl(1, 'MERGE') == 'SUCCEED\n'
        hung = [0x2021, 0x21, 0x21]
        assert_statuses(ring, 2, hung, captured)
        assert_stays(ring, 3, hung)
        [event] = faults.events(ring.faults_path)
        requester, responder = stuck(ring, event, 'purging')
        assert requester == 1 and responder in (2, 3)
        other = 5 - responder

        assert ring.ctl(1, 'ABORTMERGE') == 'SUCCEED\n'
        assert_stays(ring, 2, hung)
        assert ring.ctl(other, 'ABORTMERGE') == 'SUCCEED\n'
        assert_statuses(ring, 1, [0x1021, 0x21, 0x21], captured)

        k2hdkc = ring.procs[(str(responder), 'k2hdkc')]
        k2hdkc.send_signal(signal.SIGHUP)
        time.sleep(HUNG_FOR)
        assert k2hdkc.poll() is None  # ignores SIGHUP
        assert ring.stop(responder, 'k2hdkc', signal.SIGKILL) == -9
        ring.wait_self(responder, 0x10021)
        ring.start_k2hdkc(responder)
        # the new k2hdkc cannot attach: [Suspend] stays
        assert_stays(ring, other, [0x1021] + [
            0x10021 if n == responder else harness.HEALTHY for n in (2, 3)])
        ring.stop(responder, 'k2hdkc', signal.SIGKILL)
        assert ring.stop(responder, 'chmpx') == 0  # [Suspend] was shown
        ring.start_node(responder)
        ring.wait_self(responder, 0x1021)  # attached again

        assert ring.ctl(other, 'MERGE') == 'SUCCEED\n'
        ring.wait_all([0x3021 if n in (1, responder) else harness.HEALTHY
                       for n in (1, 2, 3)], via=other)
        assert ring.ctl(other, 'COMPMERGE') == 'SUCCEED\n'
        ring.wait_all([harness.HEALTHY] * 3, via='slave')
        assert ring.readable(KEYS) == len(KEYS)
        refilled = store.Store.open_existing(str(ring.nodes[0]['k2hfile']))
        assert len(set(refilled.elements) & set(KEYS)) > len(KEYS) // 3


def test_joining_node_hangs_until_its_own_k2hdkc_restarts(
        tmp_path, reference_dir, captured):
    """Real chmpx 1.0.109: the requester's merge worker could not read
    its own k2hdkc's last update time, exited, and left the node in
    [ADD][Doing] while the others were Done; restarting another node's
    k2hdkc changes nothing, restarting the requester's own frees it."""
    with harness.LocalRing(tmp_path, servers=4) as ring:
        ring.bootstrap(3)
        ring.linetool(['set %s %s' % kv for kv in KEYS.items()])
        faults.write(ring.faults_path, hang_merge=faults.hang_merge(
            'joining', clears='requester', times=5))
        ring.prepare_grow(4)
        pending = [0x1021] * 3 + [0x1121]
        hung = [0x3021] * 3 + [0x2121]
        assert ring.ctl(1, 'MERGE') == 'SUCCEED\n'
        assert_statuses(ring, 1, hung, captured)
        assert_stays(ring, 2, hung)
        [event] = faults.events(ring.faults_path)
        assert event['role'] == 'joining'
        assert event['requester']['ctlport'] == ring.nodes[3]['ctlport']

        # ABORTMERGE + MERGE: the same hang again
        assert ring.ctl(2, 'ABORTMERGE') == 'SUCCEED\n'
        assert_statuses(ring, 2, pending, captured)
        assert ring.ctl(2, 'MERGE') == 'SUCCEED\n'
        assert_statuses(ring, 2, hung, captured)
        assert_stays(ring, 3, hung)
        # a restarted responder (Done) does not help
        assert ring.ctl(3, 'ABORTMERGE') == 'SUCCEED\n'
        ring.wait_all(pending, via=3)
        ring.restart_k2hdkc(1, suspended=0x11021)
        assert ring.ctl(3, 'MERGE') == 'SUCCEED\n'
        assert_statuses(ring, 3, hung, captured)
        assert_stays(ring, 1, hung)
        assert len(faults.events(ring.faults_path)) == 3

        # the requester's own k2hdkc restarted: the next MERGE completes
        assert ring.ctl(4, 'ABORTMERGE') == 'SUCCEED\n'
        ring.wait_all(pending, via=1)
        ring.restart_k2hdkc(4, expect=0x1121, suspended=0x11121)
        cleared = faults.events(ring.faults_path)[-1]
        assert cleared['cleared_by'] == 'restart'
        assert cleared['requester']['ctlport'] == ring.nodes[3]['ctlport']
        assert ring.ctl(1, 'MERGE') == 'SUCCEED\n'
        assert_statuses(ring, 1, [0x3021] * 3 + [0x3121], captured)
        assert ring.ctl(1, 'COMPMERGE') == 'SUCCEED\n'
        ring.wait_all([harness.HEALTHY] * 4, via='slave')
        assert ring.readable(KEYS) == len(KEYS)
        assert len(faults.events(ring.faults_path)) == 4


def test_purging_node_hang_of_its_own_ends_with_abort_and_merge(
        tmp_path, reference_dir, captured):
    """The same hang on a node refilling an empty file (0x2021 while its
    peers stay 0x21): ABORTMERGE, even on the hung node itself, and a new
    MERGE free it once the fault's ``times`` is spent."""
    with harness.LocalRing(tmp_path, servers=3) as ring:
        ring.bootstrap(3)
        ring.linetool(['set %s %s' % kv for kv in KEYS.items()])
        faults.write(ring.faults_path, hang_merge=faults.hang_merge(
            'purging', clears='requester'))
        ring.empty_k2hdkc(1)
        assert ring.ctl(1, 'MERGE') == 'SUCCEED\n'
        hung = [0x2021, 0x21, 0x21]
        assert_statuses(ring, 2, hung, captured)
        assert_stays(ring, 3, hung)
        assert ring.ctl(1, 'ABORTMERGE') == 'SUCCEED\n'
        assert_statuses(ring, 2, [0x1021, 0x21, 0x21], captured)
        assert ring.ctl(1, 'MERGE') == 'SUCCEED\n'
        ring.wait_all([0x3021, 0x21, 0x21], via=2)
        assert ring.ctl(1, 'COMPMERGE') == 'SUCCEED\n'
        ring.wait_all([harness.HEALTHY] * 3, via='slave')
        assert ring.readable(KEYS) == len(KEYS)


def test_slow_merge_reply(tmp_path, reference_dir, captured):
    """MERGE takes effect at once but SUCCEED comes ``seconds`` later;
    only the first one (``times``)."""
    seconds = 2.0
    with harness.LocalRing(tmp_path, servers=2) as ring:
        ring.bootstrap(2)
        ring.restart_k2hdkc(1)
        faults.write(ring.faults_path, slow_reply=faults.slow_reply(
            'merge', seconds=seconds))
        got: list = []

        def send() -> None:
            start = time.monotonic()
            got.append(harness.ctl(ring.nodes[0]['ctlport'], 'MERGE', 10))
            got.append(time.monotonic() - start)

        sender = threading.Thread(target=send)
        sender.start()
        ring.wait_self(1, 0x3021, timeout=seconds * 0.9)
        assert not got  # the merge went on while the reply was held
        sender.join(10)
        reply, took = got
        assert reply == _reply(reference_dir, 'scalein_node4_manual_abort/'
                               '04_node1_MERGE.txt')
        assert took >= seconds
        assert_statuses(ring, 1, [0x3021, harness.HEALTHY], captured)
        start = time.monotonic()
        assert ring.ctl(1, 'COMPMERGE') == 'SUCCEED\n'
        assert ring.ctl(1, 'MERGE') == 'SUCCEED\n'
        assert time.monotonic() - start < seconds
        ring.wait_all([harness.HEALTHY] * 2, via=1)


@contextlib.contextmanager
def one_node(tmp_path) -> Iterator[harness.LocalRing]:
    """A lone server node, chmpx with its k2hdkc attached."""
    with harness.LocalRing(tmp_path, servers=1) as ring:
        ring.write_configs([1])
        ring.start_chmpx(1)
        ring.start_k2hdkc(1)
        ring.wait_self(1, 0x11)
        yield ring


@pytest.mark.parametrize('delay, window, code', [
    (0.2, None, -signal.SIGSEGV), (1.5, None, 0),
    (0.0, '0', 0)])  # the window can be closed for a test's sake
def test_sighup_after_k2hdkc_detached(tmp_path, monkeypatch, delay, window,
                                      code):
    """Real chmpx 1.0.109 segfaults on SIGHUP < ~1 s after its k2hdkc
    left, and exits 0 with >= 1 s between."""
    if window is not None:
        monkeypatch.setenv(chmpx_main.SIGHUP_CRASH_ENV, window)
    with one_node(tmp_path) as ring:
        assert ring.stop(1, 'k2hdkc') == 0
        time.sleep(delay)
        assert ring.stop(1, 'chmpx') == code


@pytest.mark.parametrize('delay, code', [(0.2, -signal.SIGSEGV),
                                         (1.5, 0)])
def test_sighup_after_linetool_quit_on_slave(tmp_path, delay, code):
    with harness.LocalRing(tmp_path, servers=1) as ring:
        ring.bootstrap(1)
        ring.linetool(['set a b'])
        time.sleep(delay)
        assert ring.stop('slave', 'chmpx') == code


def test_sighup_once_suspend_shows_exits_0(tmp_path):
    """doc/ring-procedures.md §9 step 2: [Suspend] ends the window."""
    with one_node(tmp_path) as ring:
        assert ring.stop(1, 'k2hdkc') == 0
        harness.wait_for(lambda: ring.self_code(1) == 0x10011, 10,
                         '[Suspend]')
        assert ring.stop(1, 'chmpx') == 0


def test_sighup_with_k2hdkc_attached_exits_0(tmp_path):
    with one_node(tmp_path) as ring:
        assert ring.stop(1, 'chmpx') == 0


def test_hold_gate_keeps_a_merge_doing_until_removed(tmp_path):
    """The test gate of the fault matrix: the existing members of a grow
    stay [Doing] while ``hold_merge`` is in the file, one of them loses
    its k2hdkc and gets it back meanwhile, and once the gate goes the
    merge ends with every key."""
    with harness.LocalRing(tmp_path, servers=4) as ring:
        ring.bootstrap(3)
        ring.linetool(['set %s %s' % kv for kv in KEYS.items()])
        faults.write(ring.faults_path,
                     hold_merge=faults.hold_merge('existing'))
        ring.prepare_grow(4)
        assert ring.ctl(1, 'MERGE') == 'SUCCEED\n'
        held = [0x2021] * 3 + [0x3121]
        ring.wait_all(held, via=4)
        assert_stays(ring, 4, held)
        events = faults.events(ring.faults_path)
        assert sorted(e['requester']['ctlport'] for e in events) == sorted(
            n['ctlport'] for n in ring.nodes[:3])
        assert {e['fault'] for e in events} == {'hold_merge'}

        assert ring.stop(2, 'k2hdkc', signal.SIGKILL) == -9
        ring.wait_self(2, 0x12021)   # [Suspend] while held
        ring.start_k2hdkc(2)
        ring.wait_self(2, 0x2021)
        faults.write(ring.faults_path)
        ring.wait_all([0x3021] * 3 + [0x3121], via=4)
        assert ring.ctl(1, 'COMPMERGE') == 'SUCCEED\n'
        ring.wait_all([harness.HEALTHY] * 4, via='slave')
        assert ring.readable(KEYS) == len(KEYS)
