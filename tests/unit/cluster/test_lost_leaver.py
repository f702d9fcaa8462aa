"""A leaver lost during its own shrink (doc/ring-procedures.md §4 "A
leaver lost on its way out"): its VM goes at SERVICEOUT, at the k2hdkc
restarts or during the MERGE, and the shrink ends in the new ring
without it, as a dead member's shrink does, instead of waiting for a
guest that never answers and aborting the merge (the fault matrix cell
shrink:serviceout vm-gone ended with every member in error)."""

from __future__ import annotations

from unittest import mock

import pytest
from trove.instance.tasks import InstanceTasks

from tests.unit.cluster.test_dead_member import assert_serving_without
from tests.unit.cluster.test_taskmanager import CLUSTER
from tests.unit.cluster.test_taskmanager import FakeRegistry
from tests.unit.cluster.test_taskmanager import cleared  # noqa: F401
from tests.unit.cluster.test_taskmanager import fault_messages
from tests.unit.cluster.test_taskmanager import faults  # noqa: F401
from tests.unit.cluster.test_taskmanager import fresh_ring
from tests.unit.cluster.test_taskmanager import healthy
from tests.unit.cluster.test_taskmanager import k2hdkc_opts  # noqa: F401
from tests.unit.cluster.test_taskmanager import make_tasks
from trove_k2hdkc.cluster import ringstate as rs

REMAINING = ['inst-1', 'inst-2']
LEAVER = 'inst-3'


def _dies(ring, node, method, *, before=False, match=None):
    """``LEAVER``'s VM is lost at ``node``'s ``method`` call: before it
    is handled, or right after it took effect."""
    call = ring.call

    def wrapped(node_id, name, **kwargs):
        hit = (node_id, name) == (node, method) and (
            match is None or match(kwargs)) and not ring.nodes[LEAVER].dead
        if hit and before:
            ring.kill(LEAVER)
        try:
            return call(node_id, name, **kwargs)
        finally:
            if hit and not before:
                ring.kill(LEAVER)
    ring.call = wrapped


def _its_serviceout(kwargs):
    return kwargs.get('custom_id_seed') == LEAVER


def _shrink(ring):
    registry = FakeRegistry(ring)
    tasks = make_tasks(ring, registry, list(ring.nodes))
    tasks.shrink_cluster(mock.Mock(), CLUSTER, [LEAVER])
    return tasks, registry


def _assert_shrunk(ring, tasks, registry, cleared):  # noqa: F811
    tasks.update_statuses_on_failure.assert_not_called()
    assert_serving_without(ring, LEAVER, REMAINING)
    assert registry.log == ['ring_settings', 'remove']
    tasks._delete_instances.assert_called_once_with(
        mock.ANY, CLUSTER, [LEAVER])
    tasks.reset_task.assert_called_once_with()
    # nothing was aborted, and the survivors were purged
    assert 'abort_merge' not in ring.methods()
    for i in REMAINING:
        assert 'purge_finish' in ring.methods(i)
    # a shrink that did what was asked leaves no fault behind
    assert sorted(c.args[0] for c in cleared.call_args_list) == sorted(
        ring.nodes)


@pytest.mark.parametrize('where', [
    # the matrix cell: lost just after its SERVICEOUT took effect
    ('inst-1', 'service_out', False, _its_serviceout),
    # lost while the SERVICEOUT was on its way (chmpx handles the down
    # server itself: [SERVICE IN][DOWN][DELETE][Pending])
    ('inst-1', 'service_out', True, _its_serviceout),
    # lost while the remaining members restart their k2hdkc
    ('inst-2', 'restart_k2hdkc', False, None),
    # lost during the MERGE it was a source of
    ('inst-1', 'merge', False, None),
], ids=['after-serviceout', 'at-serviceout', 'at-restart', 'in-merge'])
def test_shrink_whose_leaver_is_lost_ends_in_the_new_ring(
        where, faults, cleared):  # noqa: F811
    node, method, before, match = where
    ring = fresh_ring(3)
    healthy(ring)
    _dies(ring, node, method, before=before, match=match)
    tasks, registry = _shrink(ring)
    _assert_shrunk(ring, tasks, registry, cleared)
    assert not fault_messages(faults)
    assert ring.nodes[LEAVER].code == rs.SERVICE_OUT_DOWN
    # the lost leaver was never asked to stop
    assert 'stop_node' not in ring.methods(LEAVER)


def test_leaver_lost_after_compmerge_is_not_stopped(
        faults, cleared):  # noqa: F811
    """Out of the ring already (0x11) when its VM goes: nothing is left
    to merge; it is not waited for or stopped, and the shrink ends."""
    ring = fresh_ring(3)
    healthy(ring)
    _dies(ring, 'inst-1', 'complete_merge')
    tasks, registry = _shrink(ring)
    _assert_shrunk(ring, tasks, registry, cleared)
    assert 'stop_node' not in ring.methods(LEAVER)



def _lost_at_restart(ring, node, *also):
    """``node``'s VM is lost right after its k2hdkc restart, and those
    of ``also`` with it (one host's loss)."""
    call = ring.call

    def wrapped(node_id, method, **kwargs):
        reply = call(node_id, method, **kwargs)
        if (node_id, method) == (node, 'restart_k2hdkc'):
            for lost in (node, *also):
                ring.kill(lost)
        return reply
    ring.call = wrapped


def test_shrink_during_which_a_remaining_member_is_lost_still_ends_serving(
        faults, trove_db):  # noqa: F811
    """Not the leaver but a member that stays is lost (at its k2hdkc
    restart): chmpx refuses MERGE while it is down. With REPLICA = 1 and
    one member lost every key keeps a live copy, so it is taken out as
    a dead member along with the leaver (a source of the merge); the
    shrink ends as asked and the lost member stays listed, in
    SHRINKING_ERROR, for a shrink and a grow."""
    ring = fresh_ring(4)
    healthy(ring)
    _lost_at_restart(ring, 'inst-2')
    registry = FakeRegistry(ring)
    tasks = make_tasks(ring, registry, list(ring.nodes))
    tasks.server_trouble = lambda ctx, i: 'its Nova server s-2 is ERROR'
    tasks.shrink_cluster(mock.Mock(), CLUSTER, ['inst-4'])
    tasks.update_statuses_on_failure.assert_not_called()
    for i in ('inst-1', 'inst-3'):
        assert ring.nodes[i].code == rs.HEALTHY
        view = ring.call(i, 'node_status')
        assert {e['custom_id_seed']: rs.as_code(e['status']['code'])
                for e in view['ring']} == {
            'inst-1': rs.HEALTHY, 'inst-2': rs.SERVICE_OUT_DOWN,
            'inst-3': rs.HEALTHY}
    assert ring.k2hr3_hosts == ['inst-1', 'inst-2', 'inst-3']
    assert ring.nodes['inst-4'].running is False
    tasks._delete_instances.assert_called_once_with(
        mock.ANY, CLUSTER, ['inst-4'])
    assert ('inst-2', 'db', {
        'task_status': InstanceTasks.SHRINKING_ERROR}) in ring.calls
    text = fault_messages(faults)['inst-1']
    assert text.startswith('shrink failed: shrink: inst-2 to Pending'), text
    assert ('then inst-2, which stays, was lost too (inst-2: its Nova server '
            's-2 is ERROR): taken out of the ring as a dead member, and the '
            'shrink of inst-4 finished; the cluster is serving with 2 '
            'members in the ring (inst-1, inst-3); inst-2 is still listed: '
            'remove it with openstack database cluster shrink, then grow to '
            'replace it') in text, text


def test_more_members_lost_than_replica_leave_the_ring_as_it_is(
        faults):  # noqa: F811
    """Two members that stay are lost at once with REPLICA = 1: a key
    may have had both its copies on them, so nothing more is done; the
    members get SHRINKING_ERROR and the fault says why the ring does not
    serve, not only the step that timed out."""
    ring = fresh_ring(5)
    healthy(ring)
    _lost_at_restart(ring, 'inst-2', 'inst-3')
    registry = FakeRegistry(ring)
    tasks = make_tasks(ring, registry, list(ring.nodes))
    tasks.server_trouble = lambda ctx, i: 'its Nova server is ERROR'

    tasks.shrink_cluster(mock.Mock(), CLUSTER, ['inst-5'])
    tasks.update_statuses_on_failure.assert_called_once_with(
        CLUSTER, status=InstanceTasks.SHRINKING_ERROR)
    tasks._delete_instances.assert_not_called()
    assert 'merge' not in ring.methods()
    text = fault_messages(faults)['inst-1']
    assert text.startswith('shrink failed: shrink: inst-2 to Pending'), text
    assert ('the ring does not serve: resume: the ring is merging but '
            'inst-2, inst-3 is down; chmpx refuses MERGE until it is back; '
            'inst-2, inst-3 are lost, more than REPLICA = 1: a key may have '
            'had every copy on them, so the ring is left as it is') in text


@pytest.mark.parametrize('node, method', [
    # during the merge: an ABORTMERGE then takes the leaver's [DELETE]
    ('inst-1', 'merge'),
    # past COMPMERGE: the leaver is out and stopped already
    ('inst-2', 'purge_prepare'),
], ids=['in-merge', 'at-purge'])
def test_shrink_to_two_whose_other_member_is_lost_ends_with_one(
        node, method, faults, trove_db):  # noqa: F811
    """3 -> 2 with REPLICA = 1, and inst-2, which stays, is lost: every
    key still has a copy on inst-1 or on the leaver (a source of the
    merge), so the ring ends with inst-1 alone, serving."""
    ring = fresh_ring(3)
    healthy(ring)
    call = ring.call

    def wrapped(node_id, name, **kwargs):
        reply = call(node_id, name, **kwargs)
        if (node_id, name) == (node, method) and not ring.nodes[
                'inst-2'].dead:
            ring.kill('inst-2')
        return reply
    ring.call = wrapped
    registry = FakeRegistry(ring)
    tasks = make_tasks(ring, registry, list(ring.nodes))
    tasks.server_trouble = lambda ctx, i: None
    tasks.shrink_cluster(mock.Mock(), CLUSTER, [LEAVER])
    tasks.update_statuses_on_failure.assert_not_called()
    assert ring.nodes['inst-1'].code == rs.HEALTHY
    view = ring.call('inst-1', 'node_status')
    assert {e['custom_id_seed']: rs.as_code(e['status']['code'])
            for e in view['ring']} == {'inst-1': rs.HEALTHY,
                                       'inst-2': rs.SERVICE_OUT_DOWN}
    assert ring.k2hr3_hosts == ['inst-1', 'inst-2']
    assert ring.nodes[LEAVER].running is False
    # alone, inst-1 is not purged: it would refill from nobody (§5); at
    # the purge it had been purged once already, with inst-2 to refill
    # from
    assert ring.methods('inst-1').count('purge_prepare') == (
        1 if method == 'purge_prepare' else 0)
    tasks._delete_instances.assert_called_once_with(
        mock.ANY, CLUSTER, [LEAVER])
    text = fault_messages(faults)['inst-1']
    assert ('then inst-2, which stays, was lost too (inst-2: down in every '
            'view): taken out of the ring as a dead member, and the shrink '
            'of inst-3 finished; the cluster is serving with 1 members in '
            'the ring (inst-1)') in text, text
