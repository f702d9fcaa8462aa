"""A ring whose taskmanager died mid-procedure ends serving
(doc/ring-procedures.md §11): what the ring shows decides what is
finished, and nothing in K2HR3 is touched."""

from __future__ import annotations

import pytest

from tests.unit.cluster.fakering import FakeFleet
from tests.unit.cluster.fakering import Ring
from trove_k2hdkc.cluster import resume
from trove_k2hdkc.cluster import ringstate as rs
from trove_k2hdkc.cluster.errors import ProcedureError
from trove_k2hdkc.cluster.procedures import Procedures
from trove_k2hdkc.cluster.procedures import Timing

TIMING = Timing(status_timeout=10, merge_timeout=60, abort_timeout=5,
                poll_interval=1)
IDS = ['inst-1', 'inst-2', 'inst-3', 'inst-4']


def ring_of(codes: dict[str, int | None], listed=IDS) -> Ring:
    """Nodes with the given own codes (None: never started); K2HR3 and
    every started node list ``listed``."""
    ring = Ring()
    ring.k2hr3_hosts = list(listed)
    for n, node_id in enumerate(IDS, start=1):
        node = ring.add(node_id, '10.0.0.%d' % n)
        code = codes.get(node_id)
        if code is not None:
            node.code, node.running = code, code != rs.SERVICE_OUT_DOWN
            node.configured = {'role_token': 't'}
            node.listed = tuple(listed)
    return ring


def run(ring: Ring, kind: str) -> resume.Outcome:
    procs = Procedures(FakeFleet(ring), server_ctlport=8021, timing=TIMING)
    return resume.resume(procs, IDS, kind)


def assert_all_healthy(ring: Ring, ids) -> None:
    assert {i: ring.nodes[i].code for i in ids} == dict.fromkeys(
        ids, rs.HEALTHY)


def merge_index(ring: Ring) -> int:
    return next(i for i, (_, m, _) in enumerate(ring.calls) if m == 'merge')


def test_grow_stopped_between_k2hdkc_restarts_finishes_forward():
    """One existing member was restarted, two were not: both are
    restarted before the MERGE (else keys moving between old members
    are lost, doc/ring-procedures.md §1), and the ring ends with four."""
    ring = ring_of({'inst-1': rs.PENDING, 'inst-2': rs.HEALTHY,
                    'inst-3': rs.HEALTHY, 'inst-4': rs.ADD_PENDING})
    out = run(ring, resume.GROW)
    assert out.serving == IDS and out.outside == []
    assert_all_healthy(ring, IDS)
    merge = merge_index(ring)
    assert ring.index('inst-2', 'restart_k2hdkc') < merge
    assert ring.index('inst-3', 'restart_k2hdkc') < merge
    assert 'restart_k2hdkc' not in ring.methods('inst-1')[:1]
    # every member purged afterwards (stale copies, §5)
    for i in IDS:
        assert ring.index(i, 'purge_prepare') > merge
    assert 'merge of the ring' in out.step


def test_grow_stopped_after_merge_only_completes():
    ring = ring_of({'inst-1': rs.DONE, 'inst-2': rs.DONE,
                    'inst-3': rs.DONE, 'inst-4': rs.ADD_DONE})
    out = run(ring, resume.GROW)
    assert out.serving == IDS
    assert_all_healthy(ring, IDS)
    first_purge = ring.index('inst-1', 'purge_prepare')
    assert all(m != 'restart_k2hdkc'
               for _, m, _ in ring.calls[:first_purge])


def test_grow_stopped_before_service_in_joins_the_listed_member():
    ring = ring_of({'inst-1': rs.HEALTHY, 'inst-2': rs.HEALTHY,
                    'inst-3': rs.HEALTHY, 'inst-4': rs.SERVICE_OUT_UP})
    out = run(ring, resume.GROW)
    assert out.serving == IDS and out.outside == []
    assert_all_healthy(ring, IDS)
    assert ring.index('inst-4', 'service_in') < merge_index(ring)


def test_grow_stopped_before_k2hr3_listed_the_member_keeps_the_old_ring():
    """Nobody's INI lists the new member: starting it would make a ring
    of its own (§3 step 1); the old ring is left as it was."""
    ring = ring_of({'inst-1': rs.HEALTHY, 'inst-2': rs.HEALTHY,
                    'inst-3': rs.HEALTHY}, listed=IDS[:3])
    out = run(ring, resume.GROW)
    assert out.serving == IDS[:3] and out.outside == ['inst-4']
    assert 'before the new members joined' in out.step
    assert ring.methods('inst-4') == []
    assert not {'restart_k2hdkc', 'merge', 'purge_prepare'} & set(
        ring.methods())


def test_shrink_stopped_after_service_out_finishes_and_stops_the_leaver():
    ring = ring_of({'inst-1': rs.HEALTHY, 'inst-2': rs.HEALTHY,
                    'inst-3': rs.HEALTHY, 'inst-4': rs.DELETE_PENDING})
    out = run(ring, resume.SHRINK)
    assert out.serving == IDS[:3] and out.outside == ['inst-4']
    assert_all_healthy(ring, IDS[:3])
    assert ring.nodes['inst-4'].running is False
    assert ring.index('inst-4', 'stop_node') > merge_index(ring)
    assert 'purge_prepare' not in ring.methods('inst-4')


def test_shrink_stopped_after_compmerge_stops_the_running_leaver():
    ring = ring_of({'inst-1': rs.HEALTHY, 'inst-2': rs.HEALTHY,
                    'inst-3': rs.HEALTHY, 'inst-4': rs.SERVICE_OUT_UP})
    out = run(ring, resume.SHRINK)
    assert out.outside == ['inst-4'] and out.serving == IDS[:3]
    assert ring.methods('inst-4') == ['stop_node']
    assert 'after the leavers left' in out.step


def test_rolling_restart_stopped_with_one_member_pending_merges_it_back():
    ring = ring_of({'inst-1': rs.HEALTHY, 'inst-2': rs.PENDING,
                    'inst-3': rs.HEALTHY, 'inst-4': rs.HEALTHY})
    out = run(ring, resume.ROLL)
    assert out.serving == IDS
    assert_all_healthy(ring, IDS)
    assert ('inst-2', 'merge', {}) in ring.calls
    assert 'restart_k2hdkc' not in ring.methods()


def test_a_member_down_during_the_merge_ends_with_the_reason():
    ring = ring_of({'inst-1': rs.PENDING, 'inst-2': rs.HEALTHY,
                    'inst-3': rs.HEALTHY, 'inst-4': rs.ADD_PENDING})
    # its VM is gone: the peers show it [SERVICE IN][DOWN]
    ring.view_lag['inst-3'] = 1e9
    ring.faults[('inst-3', 'node_status')] = TimeoutError('no reply')
    with pytest.raises(ProcedureError, match='inst-3 is down'):
        run(ring, resume.GROW)
    assert 'merge' not in ring.methods()


def test_a_member_down_after_the_merge_is_not_purged_around():
    """The grow's merge completed, then the new member's VM went: the
    purge would empty a member whose keys' other copy may be on the dead
    one (and its MERGE is refused), so nothing is touched."""
    ring = ring_of(dict.fromkeys(IDS, rs.HEALTHY))
    ring.view_lag['inst-4'] = 1e9
    ring.faults[('inst-4', 'node_status')] = TimeoutError('no reply')
    with pytest.raises(ProcedureError, match='inst-4 is down in the ring'):
        run(ring, resume.GROW)
    assert 'purge_prepare' not in ring.methods()
    assert 'merge' not in ring.methods()


def test_a_silent_guest_is_judged_by_its_peers_view():
    """The agent of an existing member is gone but its chmpx serves:
    its code comes from the peers' ALLSTATUS."""
    ring = ring_of({'inst-1': rs.HEALTHY, 'inst-2': rs.HEALTHY,
                    'inst-3': rs.HEALTHY, 'inst-4': rs.HEALTHY})
    ring.faults[('inst-3', 'node_status')] = TimeoutError('no reply')
    procs = Procedures(FakeFleet(ring), server_ctlport=1, timing=TIMING)
    codes, ips = resume.observe(procs, IDS)
    assert codes['inst-3'] == rs.HEALTHY
    assert ips['inst-3'] == '10.0.0.3'
    assert procs.server_ctlport == ring.ctlport


@pytest.mark.parametrize('kind, codes', [
    (resume.GROW, {'inst-1': rs.HEALTHY, 'inst-2': rs.PENDING,
                   'inst-3': rs.HEALTHY, 'inst-4': rs.HEALTHY}),
    (resume.SHRINK, {'inst-1': rs.HEALTHY, 'inst-2': rs.PENDING,
                     'inst-3': rs.HEALTHY}),
])
def test_an_interrupted_purge_is_merged_back_then_every_member_purged(
        kind, codes):
    """The purge of §5 stopped at inst-2: its merge back, then a purge of
    every member, the ones after inst-2 included (stale copies)."""
    listed = [i for i in IDS if i in codes]
    ring = ring_of(codes, listed=listed)
    out = run(ring, kind)
    assert out.serving == listed
    assert_all_healthy(ring, listed)
    back = merge_index(ring)
    assert ring.calls[back][0] == 'inst-2'
    for i in listed:
        assert ring.index(i, 'purge_prepare') > back
    assert 'purged every member' in out.done
