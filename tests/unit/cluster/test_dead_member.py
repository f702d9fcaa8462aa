"""A dead member leaves by shrink and is replaced by a grow; a shrink
that failed after SERVICEOUT is retried (doc/ring-procedures.md §4)."""

from __future__ import annotations

from unittest import mock

from trove.common.exception import GuestTimeout
from trove.instance.tasks import InstanceTasks

from tests.unit.cluster.test_taskmanager import CLUSTER
from tests.unit.cluster.test_taskmanager import FakeRegistry
from tests.unit.cluster.test_taskmanager import assert_grow_undone
from tests.unit.cluster.test_taskmanager import cleared  # noqa: F401
from tests.unit.cluster.test_taskmanager import fault_messages
from tests.unit.cluster.test_taskmanager import faults  # noqa: F401
from tests.unit.cluster.test_taskmanager import fresh_ring
from tests.unit.cluster.test_taskmanager import healthy
from tests.unit.cluster.test_taskmanager import k2hdkc_opts  # noqa: F401
from tests.unit.cluster.test_taskmanager import make_tasks
from tests.unit.cluster.test_vm_lost_matrix import run_operation
from trove_k2hdkc.cluster import ringstate as rs

REMAINING = ['inst-1', 'inst-2', 'inst-3']


def dead_ring(count=4, dead='inst-4'):
    ring = fresh_ring(count)
    healthy(ring)
    ring.kill(dead)
    return ring


def grow_losing(victim, at, trouble, before=False):
    """A grow 3 -> 4 whose ``victim`` VM is lost when the RPC ``at``
    (node, method) is sent: before it is handled, or (default) after."""
    def hook(ring, call):
        def lose(node_id, method, **kwargs):
            if before and (node_id, method) == at:
                ring.kill(victim)
            reply = call(node_id, method, **kwargs)
            if not before and (node_id, method) == at:
                ring.kill(victim)
            return reply
        return lose
    return run_operation('grow', hook, trouble)


def assert_serving_without(ring, gone, remaining):
    for i in remaining:
        node = ring.nodes[i]
        assert node.code == rs.HEALTHY and node.running
        assert gone not in node.listed
        view = ring.call(i, 'node_status')
        assert {e['custom_id_seed'] for e in view['ring']} == set(remaining)
        assert set(rs.ring_codes(view)) == {rs.HEALTHY}
    assert gone not in ring.k2hr3_hosts


def test_shrink_removes_a_dead_member():
    ring = dead_ring()
    registry = FakeRegistry(ring)
    tasks = make_tasks(ring, registry, list(ring.nodes))
    tasks.shrink_cluster(mock.Mock(), CLUSTER, ['inst-4'])
    tasks.update_statuses_on_failure.assert_not_called()
    assert_serving_without(ring, 'inst-4', REMAINING)
    # SERVICEOUT of the dead member goes to a live peer's control port
    out = [c for c in ring.calls if c[1] == 'service_out']
    assert out == [('inst-1', 'service_out', {
        'server': '10.0.0.4', 'ctlport': 8021, 'custom_id_seed': 'inst-4'})]
    # then the merge among the live members, COMPMERGE, purge
    for i in REMAINING:
        assert ring.index('inst-1', 'service_out') < ring.index(
            i, 'restart_k2hdkc') < ring.index('inst-1', 'merge')
        assert 'purge_finish' in ring.methods(i)
    assert ring.index('inst-1', 'merge') < ring.index(
        'inst-1', 'complete_merge')
    assert registry.log == ['ring_settings', 'remove']
    tasks._delete_instances.assert_called_once_with(
        mock.ANY, CLUSTER, ['inst-4'])


def test_dead_member_replaced_by_shrink_then_grow():
    ring = dead_ring()
    tasks = make_tasks(ring, FakeRegistry(ring), list(ring.nodes))
    tasks.shrink_cluster(mock.Mock(), CLUSTER, ['inst-4'])
    ring.add('inst-5', '10.0.0.5')
    tasks = make_tasks(ring, FakeRegistry(ring), REMAINING + ['inst-5'])
    tasks.grow_cluster(mock.Mock(), CLUSTER, ['inst-5'])
    tasks.update_statuses_on_failure.assert_not_called()
    assert_serving_without(ring, 'inst-4', REMAINING + ['inst-5'])
    assert ring.nodes['inst-5'].completed


def test_shrink_of_another_member_while_one_is_dead_changes_nothing(
        faults):  # noqa: F811
    ring = dead_ring()
    registry = FakeRegistry(ring)
    tasks = make_tasks(ring, registry, list(ring.nodes))
    tasks.shrink_cluster(mock.Mock(), CLUSTER, ['inst-3'])
    tasks.update_statuses_on_failure.assert_not_called()
    tasks._delete_instances.assert_not_called()
    assert ring.methods() == [] and registry.log == ['ring_settings']
    message = fault_messages(faults)['inst-1']
    assert 'inst-4 is down' in message
    assert 'cluster shrink of it' in message


def test_grow_with_a_dead_member_is_refused_and_undone(
        faults, trove_db):  # noqa: F811
    ring = dead_ring(3, dead='inst-3')
    ring.add('inst-4', '10.0.0.4')
    registry = FakeRegistry(ring)
    tasks = make_tasks(ring, registry, list(ring.nodes))
    tasks._ids = mock.Mock(side_effect=[list(ring.nodes),
                                        ['inst-1', 'inst-2', 'inst-3']])
    tasks.grow_cluster(mock.Mock(), CLUSTER, ['inst-4'])
    assert_grow_undone(tasks, ring, ['inst-4'])
    message = fault_messages(faults)['inst-1']
    assert 'inst-3 is down' in message
    assert 'openstack database cluster shrink' in message
    assert 'undone' in message


def _fail_once(ring, node, method):
    ring.faults[(node, method)] = GuestTimeout('timed out')


def _retry(ring, leaver):
    ring.faults.clear()
    tasks = make_tasks(ring, FakeRegistry(ring), list(ring.nodes))
    tasks.shrink_cluster(mock.Mock(), CLUSTER, [leaver])
    return tasks


def test_shrink_failed_after_serviceout_can_be_retried(faults):  # noqa: F811
    """The first attempt stops with the leaver [DELETE][Pending] and some
    members restarted ([n/a][Pending]); the same request again finishes
    the merge instead of refusing the ring as unhealthy."""
    ring = fresh_ring(4)
    healthy(ring)
    _fail_once(ring, 'inst-2', 'restart_k2hdkc')
    tasks = make_tasks(ring, FakeRegistry(ring), list(ring.nodes))
    tasks.shrink_cluster(mock.Mock(), CLUSTER, ['inst-4'])
    tasks.update_statuses_on_failure.assert_called_once_with(
        CLUSTER, status=InstanceTasks.SHRINKING_ERROR)
    assert ring.nodes['inst-4'].code == rs.DELETE_PENDING
    assert ring.nodes['inst-1'].code == rs.PENDING
    tasks = _retry(ring, 'inst-4')
    tasks.update_statuses_on_failure.assert_not_called()
    assert ring.nodes['inst-4'].running is False
    assert_serving_without(ring, 'inst-4', REMAINING)
    tasks._delete_instances.assert_called_once_with(
        mock.ANY, CLUSTER, ['inst-4'])


def test_dead_member_shrink_failed_in_the_merge_can_be_retried(
        faults):  # noqa: F811
    ring = dead_ring()
    _fail_once(ring, 'inst-1', 'merge')
    tasks = make_tasks(ring, FakeRegistry(ring), list(ring.nodes))
    tasks.shrink_cluster(mock.Mock(), CLUSTER, ['inst-4'])
    tasks.update_statuses_on_failure.assert_called_once_with(
        CLUSTER, status=InstanceTasks.SHRINKING_ERROR)
    # the dead member is out, the others wait in [n/a][Pending]
    assert {ring.nodes[i].code for i in REMAINING} == {rs.PENDING}
    tasks = _retry(ring, 'inst-4')
    tasks.update_statuses_on_failure.assert_not_called()
    assert_serving_without(ring, 'inst-4', REMAINING)
    assert [c[1] for c in ring.calls].count('service_out') == 1


def test_pending_member_without_a_leave_under_way_is_refused(
        faults):  # noqa: F811
    """Only a leave under way (a leaver [DELETE] or out of the ring)
    makes a remaining member in [Pending] a shrink to finish."""
    ring = fresh_ring(3)
    healthy(ring)
    ring.nodes['inst-2'].code = rs.PENDING
    tasks = make_tasks(ring, FakeRegistry(ring), list(ring.nodes))
    tasks.shrink_cluster(mock.Mock(), CLUSTER, ['inst-3'])
    assert ring.methods() == []
    assert 'inst-2 0x1021' in fault_messages(faults)['inst-1']


def test_dead_member_shrink_failed_in_the_merge_is_finished_at_once(
        faults):  # noqa: F811
    """A step failing after the dead leaver's SERVICEOUT is followed by
    the rules of doc/ring-procedures.md §11: the live members finish the
    merge without it (it is down and [DELETE]); the same shrink sent
    again only removes it from K2HR3 and deletes its instance."""
    ring = dead_ring()
    ring.faults_once[('inst-1', 'merge')] = GuestTimeout('timed out')
    tasks = make_tasks(ring, FakeRegistry(ring), list(ring.nodes))
    tasks.shrink_cluster(mock.Mock(), CLUSTER, ['inst-4'])
    assert {ring.nodes[i].code for i in REMAINING} == {rs.HEALTHY}
    assert ring.nodes['inst-4'].code == rs.SERVICE_OUT_DOWN
    tasks.update_statuses_on_failure.assert_not_called()
    message = fault_messages(faults)['inst-1']
    assert 'finished the merge of the ring' in message
    assert 'serving with 3 members' in message, message
    tasks = _retry(ring, 'inst-4')
    tasks.update_statuses_on_failure.assert_not_called()
    assert_serving_without(ring, 'inst-4', REMAINING)
    assert ring.methods().count('service_out') == 1


def test_grow_whose_new_member_died_after_joining_ends_in_the_old_ring(
        faults, trove_db):  # noqa: F811
    """doc/ring-procedures.md §3: the new member's VM went after the
    merge; the ring can neither purge nor merge with it down, so it
    leaves as a dead member and the three old members serve again."""
    ring, tasks = grow_losing('inst-4', ('inst-4', 'purge_prepare'),
                              'its Nova server s-4 is ERROR', before=True)
    tasks.update_statuses_on_failure.assert_not_called()
    assert_serving_without(ring, 'inst-4', REMAINING)
    # deleted as an undone grow's members are (Trove needs its task
    # ended first)
    tasks._delete_instances.assert_called_once_with(
        mock.ANY, CLUSTER, ['inst-4'])
    assert ('inst-4', 'db', {'task_status': InstanceTasks.NONE}) in ring.calls
    tasks.reset_task.assert_called_once_with()
    text = fault_messages(faults)['inst-1']
    assert 'grow failed: purge' in text
    assert ('then the new member inst-4 joined the ring but went down '
            '(inst-4: its Nova server s-4 is ERROR): taken out of the ring '
            'as dead members, removed from K2HR3 and deleted; the cluster '
            'is serving with its 3 members from before the grow') in text


def test_grow_whose_new_member_is_lost_before_it_merged_ends_in_the_old_ring(
        faults, trove_db):  # noqa: F811
    """doc/ring-procedures.md §3: the new member's VM goes right after its
    SERVICEIN. chmpx takes a joining server that goes down out of the
    ring (0x10), so the old members serve on; the grow's own recovery
    also removes the member that never joined from K2HR3 and deletes it,
    instead of leaving it listed, in GROWING_ERROR, for a shrink."""
    ring, tasks = grow_losing('inst-4', ('inst-4', 'service_in'),
                              'its Nova server s-4 is ERROR')
    tasks.update_statuses_on_failure.assert_not_called()
    assert_serving_without(ring, 'inst-4', REMAINING)
    tasks._delete_instances.assert_called_once_with(
        mock.ANY, CLUSTER, ['inst-4'])
    # the old members never left the ring: no restart, no merge; and
    # the lost member is not asked to start again (each call would wait
    # for its RPC timeout)
    assert 'restart_k2hdkc' not in ring.methods()
    assert [m for m in ring.methods('inst-4') if m != 'db'] == [
        'configure_node', 'start_node', 'service_in']
    assert ('inst-1', 'db', {'task_status': InstanceTasks.NONE}) in ring.calls
    assert ('inst-4', 'db', {
        'task_status': InstanceTasks.GROWING_ERROR}) not in ring.calls
    text = fault_messages(faults)['inst-1']
    assert text.startswith('grow failed: grow: new nodes [ADD][Pending]')
    assert ('the new member inst-4 did not join the ring (its Nova server '
            's-4 is ERROR): removed from K2HR3 and deleted') in text, text
    assert 'cluster shrink' not in text
    assert 'serving with 3 members' in text


def test_grow_during_which_an_existing_member_is_lost_still_ends_serving(
        faults, trove_db):  # noqa: F811
    """doc/ring-procedures.md §3: inst-2's VM goes at its k2hdkc restart
    (the ring already changing: inst-4 [ADD]). With REPLICA = 1 every
    key keeps a live copy, so inst-2 leaves as a dead member and the
    grow finishes: inst-1, inst-3 and the new inst-4 serve, inst-2 stays
    listed in GROWING_ERROR for a shrink."""
    ring, tasks = grow_losing('inst-2', ('inst-2', 'restart_k2hdkc'),
                              'its Nova server s-2 is ERROR')
    tasks.update_statuses_on_failure.assert_not_called()
    serving = ['inst-1', 'inst-3', 'inst-4']
    for i in serving:
        assert ring.nodes[i].code == rs.HEALTHY
        view = ring.call(i, 'node_status')
        assert {e['custom_id_seed']: rs.as_code(e['status']['code'])
                for e in view['ring']} == {
            'inst-1': rs.HEALTHY, 'inst-2': rs.SERVICE_OUT_DOWN,
            'inst-3': rs.HEALTHY, 'inst-4': rs.HEALTHY}
        assert 'purge_finish' in ring.methods(i)
    tasks._delete_instances.assert_not_called()
    assert ('inst-2', 'db', {
        'task_status': InstanceTasks.GROWING_ERROR}) in ring.calls
    assert ('inst-4', 'db', {'task_status': InstanceTasks.NONE}) in ring.calls
    text = fault_messages(faults)['inst-1']
    assert text.startswith('grow failed: grow: inst-2 to Pending'), text
    assert ('then inst-2, an existing member, was lost too (inst-2: its Nova '
            'server s-2 is ERROR): taken out of the ring as a dead member, '
            'and the grow went on') in text, text
    assert text.endswith('inst-2 is still listed: remove it with openstack '
                         'database cluster shrink; the cluster is serving '
                         'with 3 members in the ring (inst-1, inst-3, '
                         'inst-4)'), text


def test_unjoined_member_is_deleted_with_the_grow_task_back(
        faults, trove_db):  # noqa: F811
    """The new member was lost during the MERGE (the rig's grow:merge
    vm-gone@new): the merge-window task (GROWING_MERGE) stayed on after
    the failed step, and Trove refused to delete the member ("Operation
    not supported for instances that are part of a cluster"): the task
    must be the grow's own again before the delete."""
    from trove.cluster.tasks import ClusterTasks

    from trove_k2hdkc.cluster import tasks as k2tasks
    ring = fresh_ring(3)
    healthy(ring)
    ring.add('inst-4', '10.0.0.4')
    registry = FakeRegistry(ring)
    tasks = make_tasks(ring, registry, list(ring.nodes))
    tasks.db_info.task_status = ClusterTasks.GROWING_CLUSTER
    tasks.server_trouble = lambda ctx, i: None
    seen = []
    tasks._delete_instances = mock.Mock(side_effect=lambda *a: seen.append(
        tasks.db_info.update.call_args.kwargs['task_status']))
    call = ring.call

    def lost_in_merge(node_id, method, **kwargs):
        reply = call(node_id, method, **kwargs)
        if method == 'merge' and not ring.nodes['inst-4'].dead:
            ring.kill('inst-4')
        return reply
    ring.call = lost_in_merge
    tasks.grow_cluster(mock.Mock(), CLUSTER, ['inst-4'])
    tasks.update_statuses_on_failure.assert_not_called()
    assert_serving_without(ring, 'inst-4', REMAINING)
    assert seen == [ClusterTasks.GROWING_CLUSTER], seen
    assert k2tasks.GROWING_MERGE in [
        c.kwargs['task_status'] for c in tasks.db_info.update.call_args_list]
