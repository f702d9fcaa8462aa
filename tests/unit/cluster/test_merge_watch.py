"""Every merge the control plane starts is watched (doc/ring-procedures.md
§8): a merge held in [Doing] on a joining, existing, purging or restarted
node is aborted, that node's k2hdkc restarted, then its stuck responders'
too, and the merge retried; a
late reply is judged by status; a slow merge that keeps moving is left
alone; a merge that never finishes fails naming its step."""

from __future__ import annotations

import pytest

from tests.unit.cluster.fakering import Ring
from tests.unit.cluster.test_procedures import ACCESS
from tests.unit.cluster.test_procedures import healthy_ring
from tests.unit.cluster.test_procedures import members
from tests.unit.cluster.test_procedures import procedures
from trove_k2hdkc.cluster import ringstate as rs
from trove_k2hdkc.cluster.procedures import GuestCallError
from trove_k2hdkc.cluster.procedures import StepTimeout


def all_healthy(ring):
    return {n.code for n in ring.nodes.values() if n.running} == {
        rs.HEALTHY}


def calls_between(ring, first, last):
    """Calls (node, method) from index ``first`` up to ``last``."""
    return [(n, m) for n, m, _ in ring.calls[first:last]
            if m != 'node_status']


def test_hung_purge_merge_is_aborted_responder_restarted_and_retried():
    ring, nodes = healthy_ring(3)
    purging, responder = nodes[1], nodes[2]
    ring.holds[purging.id] = responder.id
    procedures(ring).purge(nodes)
    assert all_healthy(ring)
    start = ring.index(purging.id, 'purge_prepare')
    end = ring.index(purging.id, 'purge_finish')
    seen = calls_between(ring, start, end)
    # MERGE via the purging node; ABORTMERGE twice, via the node that
    # is not a suspect (its peers, 0x21, are the responders)
    assert [c for c in seen if c[1] == 'merge'] == [(purging.id,
                                                      'merge')] * 3
    assert [c for c in seen if c[1] == 'abort_merge'] == [
        (purging.id, 'abort_merge')] * 2
    # first the node left in Doing itself; then every peer may be the
    # stuck responder: all are restarted and take part in the last
    # MERGE, then one COMPMERGE
    restarted = [n for n, m in seen if m == 'restart_k2hdkc']
    assert restarted[0] == purging.id
    assert sorted(restarted[1:]) == sorted([nodes[0].id, purging.id,
                                            responder.id])
    last_merge = max(i for i, c in enumerate(seen) if c[1] == 'merge')
    assert max(i for i, c in enumerate(seen)
               if c[1] == 'restart_k2hdkc') < last_merge
    assert seen[-1] == (purging.id, 'complete_merge')
    assert purging.id not in ring.holds
    # the other members were purged as before, without any abort
    for m in (nodes[0], nodes[2]):
        assert 'purge_finish' in ring.methods(m.id)
    assert ring.methods().count('abort_merge') == 2


def test_abort_ignored_by_the_hung_node_goes_via_another_member():
    """Which node ignores ABORTMERGE is not certain: when the status does
    not change, the watchdog tries another member."""
    ring, nodes = healthy_ring(3)
    purging = nodes[0]
    ring.holds[purging.id] = nodes[1].id
    ring.ignores_abort = {purging.id}
    procedures(ring).purge(nodes)
    assert all_healthy(ring)
    aborts = [n for n, m, _ in ring.calls if m == 'abort_merge']
    assert aborts == [purging.id, nodes[1].id] * 2
    assert 'purge_finish' in ring.methods(purging.id)


def test_purge_merge_that_never_finishes_fails_naming_the_step():
    ring, nodes = healthy_ring(3)
    ring.merge_hangs = 3
    with pytest.raises(StepTimeout) as err:
        procedures(ring).purge(nodes)
    text = str(err.value)
    assert text.startswith('purge %s: merge (after restarting'
                           % nodes[0].id)
    assert 'no progress for 10s' in text and '0x2021' in text
    assert 'complete_merge' not in ring.methods()
    assert 'purge_finish' not in ring.methods()
    assert ring.methods(nodes[1].id).count('purge_prepare') == 0


def grow_ring():
    ring, old = healthy_ring(3)
    new = members(ring, 1, start=4)
    ring.k2hr3_hosts.append(new[0].id)
    return ring, old, new


def test_grow_merge_held_on_the_joining_node_recovers():
    """The real-rig grow: the joining node stayed [ADD][Doing] while the
    existing nodes reached [n/a][Done]."""
    ring, old, new = grow_ring()
    ring.holds[new[0].id] = old[1].id
    procedures(ring).grow(old, new, ACCESS)
    assert all_healthy(ring)
    end = ring.index(old[0].id, 'complete_merge')
    seen = calls_between(ring, ring.index(old[0].id, 'merge'), end)
    aborts = [n for n, m in seen if m == 'abort_merge']
    assert aborts == [new[0].id] * 2      # not via a Done (stuck) node
    after = seen[max(i for i, c in enumerate(seen)
                     if c[1] == 'abort_merge'):]
    assert sorted(n for n, m in after if m == 'restart_k2hdkc') == sorted(
        m.id for m in old + new)


def test_shrink_merge_held_on_an_existing_node_recovers():
    ring, nodes = healthy_ring(4)
    remaining, leaving = nodes[:3], nodes[3:]
    ring.holds[remaining[1].id] = remaining[2].id
    procs = procedures(ring)
    procs.shrink_ring(remaining, leaving)
    assert ring.methods().count('abort_merge') == 2
    assert remaining[1].id not in ring.holds
    assert ring.nodes[leaving[0].id].running is False
    for m in remaining:
        assert ring.nodes[m.id].code == rs.HEALTHY


def _shrink_4_to_3_with_lagging_views(**ring_faults):
    """Shrink 4 -> 3 while every ring view lags 5 s behind the nodes'
    own status (as on the real programs); the ring after it."""
    ring, nodes = healthy_ring(4)
    remaining, leaving = nodes[:3], nodes[3:]
    ring.view_delay = 5.0
    for name, value in ring_faults.items():
        setattr(ring, name, value)
    procedures(ring).shrink_ring(remaining, leaving)
    assert ring.nodes[leaving[0].id].running is False
    assert {ring.nodes[m.id].code for m in remaining} == {rs.HEALTHY}
    return ring


def test_shrink_waits_for_the_abort_to_show_before_service_out_again():
    """Real chmpx refuses SERVICEOUT ("server is operating now") while
    its own ring view shows a node in Doing or Done; after ABORTMERGE
    the nodes' own codes are Pending before that view catches up (rig
    on the real programs, shrink 4 -> 3)."""
    ring = _shrink_4_to_3_with_lagging_views(merge_hangs=1)
    assert ring.methods().count('abort_merge') == 1
    assert ring.methods().count('service_out') == 2


def test_complete_merge_waits_until_the_sender_sees_no_node_doing():
    """Real chmpx refused COMPMERGE ("some servers could not be changed
    its status now") while its ring view still showed a node in Doing
    that was Done by its own status (rig on the real programs, shrink
    4 -> 3)."""
    ring = _shrink_4_to_3_with_lagging_views(merge_pace=1.0)
    assert ring.methods().count('complete_merge') == 1
    assert 'abort_merge' not in ring.methods()


def test_bootstrap_merge_held_on_one_node_recovers():
    ring = Ring()
    nodes = members(ring, 3)
    ring.k2hr3_hosts = [m.id for m in nodes]
    ring.holds[nodes[2].id] = nodes[0].id
    procedures(ring).bootstrap(nodes, ACCESS)
    assert all_healthy(ring)
    assert ring.methods().count('abort_merge') == 2
    assert ring.methods().count('merge') == 3


@pytest.mark.parametrize('rolling', ['rolling_restart', 'rolling_upgrade'])
def test_rolling_merge_back_held_on_the_restarted_node_recovers(rolling):
    ring, nodes = healthy_ring(3)
    ring.holds[nodes[1].id] = nodes[0].id
    procs = procedures(ring)
    if rolling == 'rolling_restart':
        procs.rolling_restart(nodes)
    else:
        procs.rolling_upgrade(nodes, '1.0.47')
    assert all_healthy(ring)
    assert nodes[1].id not in ring.holds
    aborts = [n for n, m, _ in ring.calls if m == 'abort_merge']
    assert aborts == [nodes[1].id] * 2
    assert {n for n, m, _ in ring.calls if m == 'restart_k2hdkc'} == {
        m.id for m in nodes}


@pytest.mark.parametrize('method', ['merge', 'abort_merge',
                                    'complete_merge'])
def test_a_lost_merge_reply_is_judged_by_status(method):
    """chmpx took effect but answered too late (real: MERGE had no reply
    within 5 s while merging): no failure."""
    ring, old, new = grow_ring()
    ring.merge_hangs = 1 if method == 'abort_merge' else 0
    for m in old + new:
        ring.lost_replies[(m.id, method)] = 1
    procedures(ring).grow(old, new, ACCESS)
    assert all_healthy(ring)
    assert sum(ring.lost_replies.values()) < len(old + new)


def test_a_merge_that_did_not_start_is_still_a_failure():
    ring, old, new = grow_ring()
    ring.faults[(old[0].id, 'merge')] = TimeoutError('rpc timeout')
    with pytest.raises(GuestCallError) as err:
        procedures(ring).grow(old, new, ACCESS)
    assert err.value.step == 'grow: merge'
    assert 'rpc timeout' in str(err.value)
    assert ring.now >= 10                 # status_timeout to show up


def test_a_slow_merge_that_keeps_moving_is_not_aborted():
    """Four nodes reach [Done] 6 s apart: 24 s in all, more than the
    10 s bound, but never 10 s without a change."""
    ring, old, new = grow_ring()
    ring.merge_pace = 6.0
    procedures(ring).grow(old, new, ACCESS)
    assert all_healthy(ring)
    assert 'abort_merge' not in ring.methods()



def restarted(ring, first=0):
    return [n for n, m, _ in ring.calls[first:] if m == 'restart_k2hdkc']


def test_grow_joining_node_left_in_doing_is_restarted_itself():
    """Real chmpx 1.0.109: the joining node stayed [ADD][Doing] (its merge
    worker could not read its own k2hdkc and exited) while the others
    were Done, through every ABORTMERGE + MERGE; restarting the Done
    responders never helped, restarting its own k2hdkc did."""
    ring, old, new = grow_ring()
    ring.own_hangs[new[0].id] = 5
    procedures(ring).grow(old, new, ACCESS)
    assert all_healthy(ring)
    assert ring.methods().count('abort_merge') == 1
    assert restarted(ring, ring.index(old[0].id, 'merge')) == [new[0].id]
    assert new[0].id not in ring.own_hangs


def test_purging_node_left_in_doing_is_restarted_itself():
    ring, nodes = healthy_ring(3)
    purging = nodes[1]
    ring.own_hangs[purging.id] = 5
    procedures(ring).purge(nodes)
    assert all_healthy(ring)
    start = ring.index(purging.id, 'purge_prepare')
    end = ring.index(purging.id, 'purge_finish')
    seen = calls_between(ring, start, end)
    assert [n for n, m in seen if m == 'restart_k2hdkc'] == [purging.id]
    aborts = [n for n, m in seen if m == 'abort_merge']
    assert len(aborts) == 1
    assert seen[-1] == (purging.id, 'complete_merge')


def test_a_node_left_in_doing_past_its_restart_fails_naming_the_codes():
    """Bounded: a node that stays in Doing after its own k2hdkc was
    restarted twice fails the step with the codes."""
    ring, old, new = grow_ring()
    ring.holds[new[0].id] = 'nobody'   # no restart frees it
    with pytest.raises(StepTimeout) as err:
        procedures(ring).grow(old, new, ACCESS)
    assert 'after restarting' in str(err.value)
    assert '0x2121' in str(err.value)
    assert restarted(ring).count(new[0].id) == 2
