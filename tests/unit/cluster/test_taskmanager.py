"""Taskmanager glue: K2HR3 calls, failure recording, delete."""

from __future__ import annotations

from unittest import mock

import pytest
from trove.cluster.tasks import ClusterTask
from trove.cluster.tasks import ClusterTasks
from trove.common import cfg
from trove.common.exception import GuestTimeout
from trove.common.exception import ModelNotFoundError
from trove.instance.tasks import InstanceTasks
from trove.taskmanager import models as task_models

from tests.unit.cluster.fakering import FakeFleet
from tests.unit.cluster.fakering import Ring
from trove_k2hdkc import conf as k2hdkc_conf
from trove_k2hdkc.cluster import readiness
from trove_k2hdkc.cluster import ringstate as rs
from trove_k2hdkc.cluster import taskmanager
from trove_k2hdkc.cluster import tasks as k2tasks
from trove_k2hdkc.cluster.procedures import Member
from trove_k2hdkc.cluster.registry import RegistryError
from trove_k2hdkc.cluster.taskmanager import K2hdkcClusterTasks
from trove_k2hdkc.cluster.taskmanager import K2hdkcTaskManagerStrategy
from trove_k2hdkc.k2hr3.access import NodeAccess
from trove_k2hdkc.k2hr3.errors import K2hr3LeftBehindError
from trove_k2hdkc.k2hr3.settings import ClusterSettings

CONF = cfg.CONF
CLUSTER = '3f1c1e0a-5b7a-4c1e-9a57-6b1f2c3d4e5f'
REAL_CLEAR_FAULT = taskmanager.clear_instance_fault   # before the patch


TOKEN = 'role-token-7f3a'


class FakeRegistry:
    """``recorded``: the ring parameters K2HR3 holds for the cluster;
    ``provisioned`` the parameters each ``provision`` wrote (None: the
    configuration's)."""

    def __init__(self, ring, *, down=False, failing=(),
                 recorded=None):
        self.ring, self.down, self.failing = ring, down, set(failing)
        self.recorded = recorded or ClusterSettings()
        self.log = []
        self.provisioned = []

    def _check(self, what):
        self.log.append(what)
        if self.down or what in self.failing:
            raise RegistryError('K2HR3 %s failed: connection refused' % what)

    def provision(self, ring=None):
        self._check('provision')
        self.provisioned.append(ring)
        return NodeAccess('https://k2hr3', 'yrn:res', 'yrn:role', TOKEN)

    def ring_settings(self):
        self._check('ring_settings')
        return self.recorded

    def add_servers(self, members):
        self._check('add')
        self.ring.k2hr3_hosts += [m.id for m in members]

    def remove_servers(self, members):
        self._check('remove')
        for m in members:
            self.ring.k2hr3_hosts.remove(m.id)

    def teardown(self):
        self._check('teardown')
        self.ring.k2hr3_hosts = []


@pytest.fixture(autouse=True)
def k2hdkc_opts():
    k2hdkc_conf.register(CONF)
    CONF.set_override('node_start_timeout', 5, group='k2hdkc')
    CONF.set_override('usage_timeout', 5, group='k2hdkc')
    CONF.set_override('usage_sleep_time', 1)
    yield
    CONF.clear_override('node_start_timeout', group='k2hdkc')
    CONF.clear_override('usage_timeout', group='k2hdkc')
    CONF.clear_override('usage_sleep_time')


@pytest.fixture(autouse=True)
def faults():
    """Instance faults saved, by instance id."""
    with mock.patch('trove_k2hdkc.cluster.taskmanager.save_instance_fault'
                    ) as save:
        yield save


@pytest.fixture(autouse=True)
def cleared():
    """Members whose fault was cleared, in call order."""
    with mock.patch('trove_k2hdkc.cluster.taskmanager.clear_instance_fault'
                    ) as clear:
        yield clear


def fault_messages(save):
    """The whole fault text of each member: the details (the message is
    shortened to fit its column, ``faulttext``), lines joined again."""
    return {c.args[0]: ' '.join(c.args[2].split())
            for c in save.call_args_list}


def make_tasks(ring, registry, ids, ready=True):
    tasks = K2hdkcClusterTasks(mock.Mock(), mock.Mock(id=CLUSTER),
                               mock.Mock(), mock.Mock())
    tasks.registry_factory = lambda conf, ctx, cid: registry
    tasks.owner_context_for = lambda ctx, cid: ctx   # see test_delete_owner
    tasks._cast_for = lambda cluster_id, task: True   # see test_claim
    tasks.fleet_factory = lambda guests: FakeFleet(ring)
    tasks._ids = lambda cluster_id: list(ids)
    tasks._members = lambda ctx, want: (
        [Member(i, ring.nodes[i].ip) for i in want], {i: None for i in want})
    tasks.member_state = lambda ctx, i: (
        readiness.READY if ready else 'its Nova server s-%s is ERROR' % i)
    tasks.awaiting_complete = lambda instance_id: False
    tasks.reset_task = mock.Mock()
    tasks.update_statuses_on_failure = mock.Mock()
    tasks._delete_instances = mock.Mock()
    # task status changes land in ring.calls, in order with the RPCs
    tasks._update_member = lambda iid, **values: ring.calls.append(
        (iid, 'db', values))
    return tasks


def fresh_ring(count):
    ring = Ring()
    for i in range(1, count + 1):
        ring.add('inst-%d' % i, '10.0.0.%d' % i)
    return ring


def test_strategy_names_the_classes():
    strategy = K2hdkcTaskManagerStrategy()
    assert strategy.task_manager_cluster_tasks_class is K2hdkcClusterTasks
    assert strategy.task_manager_api_class.__name__ == 'K2hdkcTaskManagerAPI'


def test_create_cluster_success():
    ring = fresh_ring(3)
    registry = FakeRegistry(ring)
    tasks = make_tasks(ring, registry, list(ring.nodes))
    tasks.create_cluster(mock.Mock(), CLUSTER)
    assert registry.log == ['provision', 'add']
    assert all(n.code == rs.HEALTHY and n.completed
               for n in ring.nodes.values())
    tasks.update_statuses_on_failure.assert_not_called()
    tasks.reset_task.assert_called_once_with()


def test_create_failure_tears_k2hr3_down_and_marks_members():
    ring = fresh_ring(2)
    ring.faults[('inst-2', 'start_node')] = RuntimeError('docker failed')
    registry = FakeRegistry(ring)
    tasks = make_tasks(ring, registry, list(ring.nodes))
    tasks.create_cluster(mock.Mock(), CLUSTER)
    assert registry.log == ['provision', 'add', 'teardown']
    assert ring.k2hr3_hosts == []
    tasks.update_statuses_on_failure.assert_called_once_with(
        CLUSTER, status=InstanceTasks.BUILDING_ERROR_SERVER)
    tasks.reset_task.assert_called_once_with()
    assert not any(n.completed for n in ring.nodes.values())


def test_create_members_not_ready_still_cleans_up():
    ring = fresh_ring(2)
    registry = FakeRegistry(ring)
    tasks = make_tasks(ring, registry, list(ring.nodes), ready=False)
    tasks.create_cluster(mock.Mock(), CLUSTER)
    assert registry.log == ['provision', 'teardown']
    assert ring.calls == []
    tasks.update_statuses_on_failure.assert_called_once()


def healthy(ring):
    ring.k2hr3_hosts = list(ring.nodes)
    for n in ring.nodes.values():
        n.code, n.running, n.configured = rs.HEALTHY, True, {}
    ring.listed_all()


def test_grow_rpc_timeout_leaves_clear_error_status():
    ring = fresh_ring(3)
    healthy(ring)
    ring.add('inst-4', '10.0.0.4')
    ring.faults[('inst-2', 'restart_k2hdkc')] = GuestTimeout(
        'timed out')
    registry = FakeRegistry(ring)
    tasks = make_tasks(ring, registry, list(ring.nodes))
    tasks.grow_cluster(mock.Mock(), CLUSTER, ['inst-4'])
    tasks.update_statuses_on_failure.assert_called_once_with(
        CLUSTER, status=InstanceTasks.GROWING_ERROR)
    tasks.reset_task.assert_called_once_with()
    assert not ring.nodes['inst-4'].completed
    assert ring.nodes['inst-4'].code != rs.HEALTHY
    assert 'merge' not in ring.methods()
    # the ring was touched: nothing is undone
    tasks._delete_instances.assert_not_called()
    assert registry.log == ['ring_settings', 'provision', 'add']


def test_grow_failure_before_service_in_is_undone(faults):
    """doc/ring-procedures.md §3: until SERVICEIN the ring's membership is
    unchanged, so a failure there (a guest that cannot read K2HR3) is
    undone: the new member is stopped, leaves K2HR3 and is deleted, the
    old ones re-read their INI."""
    ring = fresh_ring(2)
    healthy(ring)
    ring.add('inst-3', '10.0.0.3')
    ring.faults[('inst-1', 'refresh_config')] = GuestTimeout('timed out')
    registry = FakeRegistry(ring)
    tasks = make_tasks(ring, registry, list(ring.nodes))
    tasks.grow_cluster(mock.Mock(), CLUSTER, ['inst-3'])
    tasks.update_statuses_on_failure.assert_not_called()
    tasks._delete_instances.assert_called_once_with(
        mock.ANY, CLUSTER, ['inst-3'])
    assert registry.log[-1] == 'remove'
    assert ring.k2hr3_hosts == ['inst-1', 'inst-2']
    assert ring.methods('inst-3') == ['stop_node', 'db']
    assert ring.methods('inst-2')[-1] == 'refresh_config'
    messages = fault_messages(faults)
    assert set(messages) == set(ring.nodes)
    for text in messages.values():
        assert text.startswith('grow failed: grow: refresh config')
        assert 'inst-1: GuestTimeout: timed out' in text
        assert text.endswith('; undone, the cluster is as it was')
        assert TOKEN not in text


def statuses(ring):
    """Task status each member was last given (``_update_member``)."""
    return {i: v['task_status'] for i, m, v in ring.calls if m == 'db'}


def test_grow_failure_from_service_in_on_ends_serving(faults, trove_db):
    """From SERVICEIN on the grow is not undone; the ring's state decides
    (doc/ring-procedures.md §11): a member that cannot join stays out and
    the old ring serves. Holding no key, that member then leaves K2HR3
    and is deleted as before SERVICEIN (§3), so the cluster is the old
    one again, with nothing left for a shrink."""
    ring = fresh_ring(2)
    healthy(ring)
    ring.add('inst-3', '10.0.0.3')
    ring.faults[('inst-3', 'service_in')] = GuestTimeout('timed out')
    registry = FakeRegistry(ring)
    tasks = make_tasks(ring, registry, list(ring.nodes))
    tasks.server_trouble = lambda ctx, i: None
    tasks.grow_cluster(mock.Mock(), CLUSTER, ['inst-3'])
    tasks.update_statuses_on_failure.assert_not_called()
    tasks._delete_instances.assert_called_once_with(
        mock.ANY, CLUSTER, ['inst-3'])
    assert registry.log[-1] == 'remove' and 'inst-3' not in ring.k2hr3_hosts
    assert ring.nodes['inst-3'].running is False
    assert statuses(ring) == {'inst-1': InstanceTasks.NONE,
                              'inst-2': InstanceTasks.NONE,
                              'inst-3': InstanceTasks.NONE}
    for text in fault_messages(faults).values():
        assert text.startswith('grow failed: grow: service in inst-3')
        assert 'serving with 2 members in the ring (inst-1, inst-2)' in text
        assert ('the new member inst-3 did not join the ring: removed from '
                'K2HR3 and deleted') in text, text
        assert 'cluster shrink' not in text


def test_grow_whose_restart_reply_is_lost_is_finished(faults):
    """The restart RPC of an existing member loses its reply (its agent
    restarted): the step fails, the ring's state shows the merge half
    done, and it is finished: three healthy members, statuses NONE."""
    ring = fresh_ring(2)
    healthy(ring)
    ring.add('inst-3', '10.0.0.3')
    ring.lost_replies[('inst-2', 'restart_k2hdkc')] = 1
    registry = FakeRegistry(ring)
    tasks = make_tasks(ring, registry, list(ring.nodes))
    tasks.grow_cluster(mock.Mock(), CLUSTER, ['inst-3'])
    tasks.update_statuses_on_failure.assert_not_called()
    assert {n.code for n in ring.nodes.values()} == {rs.HEALTHY}
    assert all(v is InstanceTasks.NONE for v in statuses(ring).values())
    assert len(statuses(ring)) == 3
    text = fault_messages(faults)['inst-1']
    assert text.startswith('grow failed: grow: restart k2hdkc on inst-2')
    assert "then, from the ring's state: finished the merge" in text
    assert 'serving with 3 members in the ring' in text


def test_grow_success_registers_new_host():
    ring = fresh_ring(2)
    healthy(ring)
    ring.add('inst-3', '10.0.0.3')
    registry = FakeRegistry(ring)
    tasks = make_tasks(ring, registry, list(ring.nodes))
    tasks.grow_cluster(mock.Mock(), CLUSTER, ['inst-3'])
    tasks.update_statuses_on_failure.assert_not_called()
    assert 'inst-3' in ring.k2hr3_hosts
    assert ring.nodes['inst-3'].completed
    assert {n.code for n in ring.nodes.values()} == {rs.HEALTHY}


def assert_grow_undone(tasks, ring, new_ids, ended=InstanceTasks.NONE):
    tasks._delete_instances.assert_called_once_with(
        mock.ANY, CLUSTER, new_ids)
    # Trove refuses to delete an instance whose task is BUILDING (what a
    # grow's member has until cluster_complete): the undo ends it first,
    # in error if it never became ready (its server may still be BUILD)
    for i in new_ids:
        assert (i, 'db', {'task_status': ended}) in ring.calls
    tasks.update_statuses_on_failure.assert_not_called()
    tasks.reset_task.assert_called_once_with()
    for i in new_ids:
        assert i not in ring.k2hr3_hosts
        assert ring.methods(i) == ['db']   # no RPC: only its task ended
    assert 'refresh_config' not in ring.methods()


def test_grow_refused_on_unhealthy_ring_is_undone(faults, trove_db):
    ring = fresh_ring(2)
    healthy(ring)
    ring.nodes['inst-2'].code = rs.SERVICE_IN_DOWN
    ring.add('inst-3', '10.0.0.3')
    registry = FakeRegistry(ring)
    tasks = make_tasks(ring, registry, list(ring.nodes))
    tasks._ids = mock.Mock(side_effect=[list(ring.nodes),
                                        ['inst-1', 'inst-2']])
    tasks.grow_cluster(mock.Mock(), CLUSTER, ['inst-3'])
    assert registry.log == ['ring_settings']
    assert_grow_undone(tasks, ring, ['inst-3'])
    # the members left show why the grow did not happen
    messages = fault_messages(faults)
    assert set(messages) == {'inst-1', 'inst-2'}
    assert 'not every node is healthy (0x21)' in messages['inst-1']
    assert 'inst-2 0x20' in messages['inst-1']
    assert 'undone' in messages['inst-1']


@pytest.mark.parametrize('failing', [
    {'add'},               # K2HR3 fails the grow: undone
    {'add', 'remove'},     # ...and the undo's K2HR3 call too: still undone
])
def test_grow_k2hr3_failure_is_undone(failing):
    ring = fresh_ring(2)
    healthy(ring)
    ring.add('inst-3', '10.0.0.3')
    registry = FakeRegistry(ring, failing=failing)
    tasks = make_tasks(ring, registry, list(ring.nodes))
    tasks.grow_cluster(mock.Mock(), CLUSTER, ['inst-3'])
    assert registry.log == ['ring_settings', 'provision', 'add', 'remove']
    assert_grow_undone(tasks, ring, ['inst-3'])


def test_grow_with_members_not_ready_is_undone(faults):
    ring = fresh_ring(2)
    healthy(ring)
    ring.add('inst-3', '10.0.0.3')
    registry = FakeRegistry(ring)
    tasks = make_tasks(ring, registry, list(ring.nodes), ready=False)
    tasks.grow_cluster(mock.Mock(), CLUSTER, ['inst-3'])
    assert registry.log == []
    assert_grow_undone(tasks, ring, ['inst-3'],
                       InstanceTasks.BUILDING_ERROR_SERVER)
    message = 'will not become ready: its Nova server s-inst-3 is ERROR'
    assert message in fault_messages(faults)['inst-1']


def test_grow_undo_that_cannot_delete_marks_members():
    ring = fresh_ring(2)
    healthy(ring)
    ring.add('inst-3', '10.0.0.3')
    tasks = make_tasks(ring, FakeRegistry(ring, failing={'add'}),
                       list(ring.nodes))
    tasks._delete_instances.side_effect = RuntimeError('nova down')
    tasks.grow_cluster(mock.Mock(), CLUSTER, ['inst-3'])
    tasks.update_statuses_on_failure.assert_called_once_with(
        CLUSTER, status=InstanceTasks.GROWING_ERROR)


def test_shrink_success_deletes_leaver_after_k2hr3_removal():
    ring = fresh_ring(3)
    healthy(ring)
    registry = FakeRegistry(ring)
    tasks = make_tasks(ring, registry, list(ring.nodes))
    tasks.shrink_cluster(mock.Mock(), CLUSTER, ['inst-3'])
    tasks.update_statuses_on_failure.assert_not_called()
    assert registry.log == ['ring_settings', 'remove']
    assert ring.k2hr3_hosts == ['inst-1', 'inst-2']
    tasks._delete_instances.assert_called_once_with(
        mock.ANY, CLUSTER, ['inst-3'])


@pytest.mark.parametrize('code', [rs.SERVICE_OUT_UP, rs.SERVICE_OUT_DOWN])
def test_shrink_of_a_member_already_out_of_the_ring(code):
    """doc/ring-procedures.md §11: an interrupted shrink's leaver (out,
    maybe stopped) or a grow's member that never joined needs only the
    K2HR3 half: no SERVICEOUT, no merge, no purge."""
    ring = fresh_ring(4)
    healthy(ring)
    ring.nodes['inst-4'].code = code
    ring.nodes['inst-4'].running = code == rs.SERVICE_OUT_UP
    registry = FakeRegistry(ring)
    tasks = make_tasks(ring, registry, list(ring.nodes))
    tasks.shrink_cluster(mock.Mock(), CLUSTER, ['inst-4'])
    tasks.update_statuses_on_failure.assert_not_called()
    assert ring.k2hr3_hosts == ['inst-1', 'inst-2', 'inst-3']
    assert not {'service_out', 'merge', 'restart_k2hdkc', 'purge_prepare'
                } & set(ring.methods())
    assert ring.nodes['inst-4'].running is False
    tasks._delete_instances.assert_called_once_with(
        mock.ANY, CLUSTER, ['inst-4'])


def test_shrink_refused_on_unhealthy_ring_changes_nothing(faults):
    ring = fresh_ring(3)
    healthy(ring)
    ring.nodes['inst-2'].code = rs.PENDING
    registry = FakeRegistry(ring)
    tasks = make_tasks(ring, registry, list(ring.nodes))
    tasks.shrink_cluster(mock.Mock(), CLUSTER, ['inst-3'])
    tasks.update_statuses_on_failure.assert_not_called()
    tasks._delete_instances.assert_not_called()
    tasks.reset_task.assert_called_once_with()
    assert registry.log == ['ring_settings'] and ring.methods() == []
    assert '0x1021' in fault_messages(faults)['inst-1']


def test_shrink_failure_keeps_instances():
    ring = fresh_ring(3)
    healthy(ring)
    ring.faults[('inst-1', 'merge')] = GuestTimeout('timed out')
    tasks = make_tasks(ring, FakeRegistry(ring), list(ring.nodes))
    tasks.shrink_cluster(mock.Mock(), CLUSTER, ['inst-3'])
    tasks._delete_instances.assert_not_called()
    tasks.update_statuses_on_failure.assert_called_once_with(
        CLUSTER, status=InstanceTasks.SHRINKING_ERROR)


@pytest.fixture
def switched():
    """Cluster task switches (held, to), instead of SQL."""
    with mock.patch('trove_k2hdkc.cluster.claim.switch') as switch:
        yield switch


def assert_delete_failed(base_delete, switched):
    base_delete.assert_not_called()
    switched.assert_called_once_with(CLUSTER, ClusterTasks.DELETING,
                                     k2tasks.DELETE_FAILED)


@mock.patch.object(task_models.ClusterTasks, 'delete_cluster')
def test_delete_when_k2hr3_is_down_ends_delete_failed(base_delete, switched,
                                                      caplog):
    ring = fresh_ring(1)
    registry = FakeRegistry(ring, down=True)
    tasks = make_tasks(ring, registry, [])
    tasks.delete_cluster(mock.Mock(), CLUSTER)
    assert registry.log == ['teardown']
    assert_delete_failed(base_delete, switched)
    # Nobody could look: not reported as objects left behind.
    assert 'left behind' not in caplog.text
    assert 'did not finish' in caplog.text


@mock.patch.object(task_models.ClusterTasks, 'delete_cluster')
def test_delete_when_k2hr3_login_fails(base_delete, switched, caplog):
    ring = fresh_ring(1)
    tasks = make_tasks(ring, None, [])

    def refuse(conf, ctx, cid):
        raise RegistryError('K2HR3 login failed')
    tasks.registry_factory = refuse
    tasks.delete_cluster(mock.Mock(), CLUSTER)
    assert_delete_failed(base_delete, switched)
    assert 'left behind' not in caplog.text


class LeftBehindRegistry(FakeRegistry):
    """Teardown that found objects still in K2HR3 after deleting."""

    def teardown(self):
        self.log.append('teardown')
        try:
            raise K2hr3LeftBehindError(['role k2hdkc-x/server (1 members, '
                                        '0 tokens)', 'policy k2hdkc-x'])
        except K2hr3LeftBehindError as exc:
            raise RegistryError('K2HR3 teardown failed: %s' % exc) from exc


@mock.patch.object(task_models.ClusterTasks, 'delete_cluster')
def test_delete_names_what_is_left_behind(base_delete, switched, caplog):
    ring = fresh_ring(1)
    tasks = make_tasks(ring, LeftBehindRegistry(ring), [])
    tasks.delete_cluster(mock.Mock(), CLUSTER)
    assert_delete_failed(base_delete, switched)
    assert ('K2HR3 objects are left behind: role k2hdkc-x/server (1 '
            'members, 0 tokens), policy k2hdkc-x; delete the cluster again'
            ) in caplog.text


@mock.patch.object(task_models.ClusterTasks, 'delete_cluster')
def test_delete_again_after_a_failed_one_deletes(base_delete, switched):
    ring = fresh_ring(1)
    tasks = make_tasks(ring, LeftBehindRegistry(ring), [])
    ctx = mock.Mock()
    tasks.delete_cluster(ctx, CLUSTER)
    tasks.registry_factory = lambda conf, c, cid: FakeRegistry(ring)
    tasks.delete_cluster(ctx, CLUSTER)
    base_delete.assert_called_once_with(ctx, CLUSTER)
    assert switched.call_count == 1


@mock.patch.object(task_models.ClusterTasks, 'delete_cluster')
def test_delete_with_a_clean_teardown_logs_no_failure(base_delete, switched,
                                                       caplog):
    ring = fresh_ring(1)
    registry = FakeRegistry(ring)
    tasks = make_tasks(ring, registry, [])
    ctx = mock.Mock()
    tasks.delete_cluster(ctx, CLUSTER)
    assert registry.log == ['teardown']
    base_delete.assert_called_once_with(ctx, CLUSTER)
    switched.assert_not_called()
    assert 'left behind' not in caplog.text
    assert 'did not finish' not in caplog.text


# -- rolling restart and upgrade ------------------------------------------

def test_restart_is_rolling_and_marks_each_member():
    ring = fresh_ring(3)
    healthy(ring)
    tasks = make_tasks(ring, FakeRegistry(ring), list(ring.nodes))
    with mock.patch.object(task_models.ClusterTasks,
                           'rolling_restart_cluster') as stock:
        tasks.restart_cluster(mock.Mock(), CLUSTER)
    stock.assert_not_called()
    seen = [(n, m, v.get('task_status')) for n, m, v in ring.calls
            if m != 'node_status']
    assert seen == [
        step for i in ring.nodes for step in (
            (i, 'db', InstanceTasks.REBOOTING), (i, 'restart_node', None),
            (i, 'merge', None), (i, 'complete_merge', None),
            (i, 'db', InstanceTasks.NONE))]
    tasks.update_statuses_on_failure.assert_not_called()
    tasks.reset_task.assert_called_once_with()


def test_restart_failure_records_the_step(faults):
    ring = fresh_ring(3)
    healthy(ring)
    ring.faults[('inst-2', 'restart_node')] = GuestTimeout('timed out')
    tasks = make_tasks(ring, FakeRegistry(ring), list(ring.nodes))
    tasks.restart_cluster(mock.Mock(), CLUSTER)
    assert 'restart_node' not in ring.methods('inst-3')
    tasks.update_statuses_on_failure.assert_called_once_with(
        CLUSTER, status=InstanceTasks.NONE)
    tasks.reset_task.assert_called_once_with()
    assert fault_messages(faults)['inst-2'].startswith(
        'restart failed: rolling restart: restart inst-2')


def test_upgrade_is_rolling_and_records_the_version():
    ring = fresh_ring(2)
    healthy(ring)
    tasks = make_tasks(ring, FakeRegistry(ring), list(ring.nodes))
    version = mock.Mock(id='dv-2', version='1.0.47')
    tasks.upgrade_cluster(mock.Mock(), CLUSTER, version)
    seen = [(n, m, v) for n, m, v in ring.calls
            if m not in ('node_status', 'pre_upgrade', 'merge',
                         'complete_merge')]
    assert seen == [
        step for i in ring.nodes for step in (
            (i, 'db', {'datastore_version_id': 'dv-2',
                       'task_status': InstanceTasks.UPGRADING}),
            (i, 'upgrade', {'upgrade_info': {
                'from': None, 'datastore_version': '1.0.47',
                'rejoin': False}}),
            (i, 'db', {'task_status': InstanceTasks.NONE}))]
    assert {n.version for n in ring.nodes.values()} == {'1.0.47'}
    tasks.update_statuses_on_failure.assert_not_called()


def test_upgrade_failure_marks_members():
    ring = fresh_ring(2)
    healthy(ring)
    ring.faults[('inst-1', 'upgrade')] = GuestTimeout('timed out')
    tasks = make_tasks(ring, FakeRegistry(ring), list(ring.nodes))
    tasks.upgrade_cluster(mock.Mock(), CLUSTER,
                          mock.Mock(id='dv-2', version='1.0.47'))
    tasks.update_statuses_on_failure.assert_called_once_with(
        CLUSTER, status=InstanceTasks.UPGRADING_ERROR)
    assert ring.methods('inst-2') == []


@pytest.mark.parametrize('operation, window', [
    (ClusterTasks.GROWING_CLUSTER, k2tasks.GROWING_MERGE),
    (ClusterTasks.SHRINKING_CLUSTER, k2tasks.SHRINKING_MERGE)])
def test_merge_window_shows_in_the_cluster_task(operation, window):
    """The task description announces the outage from the first k2hdkc
    restart until COMPMERGE, and the operation's task returns after."""
    ring = fresh_ring(3)
    healthy(ring)
    ring.add('inst-4', '10.0.0.4')
    tasks = make_tasks(ring, FakeRegistry(ring), list(ring.nodes))
    tasks.db_info.task_status = operation
    tasks.db_info.update = lambda **values: ring.calls.append(
        ('cluster', 'db', values))
    if operation is ClusterTasks.GROWING_CLUSTER:
        tasks.grow_cluster(mock.Mock(), CLUSTER, ['inst-4'])
    else:
        healthy(ring)
        tasks.shrink_cluster(mock.Mock(), CLUSTER, ['inst-4'])
    tasks.update_statuses_on_failure.assert_not_called()
    steps = [(node, method, values.get('task_status') if values else None)
             for node, method, values in ring.calls]
    opened = steps.index(('cluster', 'db', window))
    closed = steps.index(('cluster', 'db', operation))
    methods = [method for _, method, _ in steps]
    first_restart = methods.index('restart_k2hdkc')
    compmerge = methods.index('complete_merge')
    assert opened < first_restart < compmerge < closed
    assert window.name == operation.name
    assert 'reads and writes fail' in window.description


def test_merge_window_task_codes_are_known_to_trove():
    for task in k2tasks.MERGE_WINDOW.values():
        assert ClusterTask.from_code(task.code) is task


def test_success_clears_an_earlier_failure(faults, cleared):
    ring = fresh_ring(3)
    healthy(ring)
    ring.add('inst-4', '10.0.0.4')
    ring.faults[('inst-2', 'restart_k2hdkc')] = GuestTimeout('timed out')
    tasks = make_tasks(ring, FakeRegistry(ring), list(ring.nodes))
    tasks.grow_cluster(mock.Mock(), CLUSTER, ['inst-4'])
    assert set(fault_messages(faults)) == set(ring.nodes)
    cleared.assert_not_called()

    healthy(ring)
    ring.faults.clear()
    tasks = make_tasks(ring, FakeRegistry(ring), list(ring.nodes))
    tasks.restart_cluster(mock.Mock(), CLUSTER)
    tasks.update_statuses_on_failure.assert_not_called()
    assert sorted(c.args[0] for c in cleared.call_args_list) == \
        sorted(ring.nodes)


def test_clear_instance_fault_marks_it_deleted():
    fault = mock.Mock(deleted=False)
    with mock.patch.object(taskmanager.DBInstanceFault, 'find_by',
                           return_value=fault) as find:
        REAL_CLEAR_FAULT('inst-1')
    find.assert_called_once_with(instance_id='inst-1', deleted=False)
    assert fault.deleted is True
    fault.save.assert_called_once_with()


def test_clear_instance_fault_without_a_fault():
    with mock.patch.object(taskmanager.DBInstanceFault, 'find_by',
                           side_effect=ModelNotFoundError()):
        REAL_CLEAR_FAULT('inst-1')


def test_grow_provisions_the_recorded_parameters_not_the_conf():
    """Created with REPLICA 1; trove.conf now says 2: the grow writes the
    recorded settings back (doc/k2hr3-layout.md §1)."""
    CONF.set_override('replica', 2, group='k2hdkc')
    try:
        ring = fresh_ring(2)
        healthy(ring)
        ring.add('inst-3', '10.0.0.3')
        recorded = ClusterSettings(replica=1)
        registry = FakeRegistry(ring, recorded=recorded)
        tasks = make_tasks(ring, registry, list(ring.nodes))
        tasks.grow_cluster(mock.Mock(), CLUSTER, ['inst-3'])
    finally:
        CONF.clear_override('replica', group='k2hdkc')
    tasks.update_statuses_on_failure.assert_not_called()
    assert registry.provisioned == [recorded]
    assert ring.nodes['inst-3'].completed


def test_create_records_the_configuration():
    ring = fresh_ring(2)
    registry = FakeRegistry(ring)
    make_tasks(ring, registry, list(ring.nodes)).create_cluster(
        mock.Mock(), CLUSTER)
    assert registry.provisioned == [None]     # registry_from_conf's


@pytest.mark.parametrize('replica, leavers, allowed', [
    (2, 2, True),     # recorded 2 although trove.conf says 1
    (1, 2, False),
])
def test_shrink_limit_is_the_recorded_replica(faults, replica, leavers,
                                              allowed):
    ring = fresh_ring(4)
    healthy(ring)
    registry = FakeRegistry(ring, recorded=ClusterSettings(replica=replica))
    tasks = make_tasks(ring, registry, list(ring.nodes))
    leaving = ['inst-%d' % (4 - i) for i in range(leavers)]
    CONF.set_override('replica', 2 if replica == 1 else 1, group='k2hdkc')
    try:
        tasks.shrink_cluster(mock.Mock(), CLUSTER, leaving)
    finally:
        CONF.clear_override('replica', group='k2hdkc')
    if allowed:
        tasks.update_statuses_on_failure.assert_not_called()
        assert ring.k2hr3_hosts == ['inst-1', 'inst-2']
    else:
        assert ring.methods() == [] and registry.log == ['ring_settings']
        assert 'REPLICA = 1' in fault_messages(faults)['inst-1']
        tasks._delete_instances.assert_not_called()


@pytest.mark.parametrize('operation', ['grow', 'shrink'])
def test_recorded_ports_the_ring_does_not_run_stop_the_operation(
        faults, operation):
    """The project's user changed the recorded port in K2HR3: the ring
    is not reconfigured to it; the operation fails untouched."""
    ring = fresh_ring(3)
    healthy(ring)
    ring.add('inst-4', '10.0.0.4')
    registry = FakeRegistry(ring, recorded=ClusterSettings(server_port=9020))
    tasks = make_tasks(ring, registry, list(ring.nodes))
    if operation == 'grow':
        tasks.grow_cluster(mock.Mock(), CLUSTER, ['inst-4'])
    else:
        tasks._ids = lambda cluster_id: ['inst-1', 'inst-2', 'inst-3']
        tasks.shrink_cluster(mock.Mock(), CLUSTER, ['inst-3'])
    assert registry.log == ['ring_settings']
    # status reads only (and a grow's new member's task ended for its undo)
    assert set(ring.methods()) <= {'db'}
    message = fault_messages(faults)['inst-1']
    assert 'K2HR3 records port/ctlport 9020/8021' in message
    assert 'the ring was not changed' in message


def test_a_set_restore_with_a_damaged_member_backup_fails_clearly(
        faults, monkeypatch):
    """doc/backup.md §6: a member's restore fails (its backup damaged in
    Swift) -> no node starts, the new cluster's K2HR3 objects go, every
    member is ERROR and the fault names the member and the reason."""
    ring = fresh_ring(3)
    ring.faults[('inst-2', 'restore_node')] = RuntimeError(
        'restore from backup b2 failed: segment b2_00000000 is damaged')
    registry = FakeRegistry(ring)
    tasks = make_tasks(ring, registry, list(ring.nodes))
    monkeypatch.setattr(
        taskmanager.setstasks, 'restore_plan',
        lambda ctx, ids, backups: {i: {'id': b}
                                   for i, b in zip(sorted(ids), backups,
                                                       strict=True)})
    tasks.create_cluster(mock.Mock(), CLUSTER, restore=['b1', 'b2', 'b3'])
    assert 'start_node' not in ring.methods()
    assert registry.log == ['provision', 'add', 'teardown']
    tasks.update_statuses_on_failure.assert_called_once_with(
        CLUSTER, status=InstanceTasks.BUILDING_ERROR_SERVER)
    messages = fault_messages(faults)
    assert set(messages) == set(ring.nodes)
    assert 'inst-2' in messages['inst-1']
    assert 'segment b2_00000000 is damaged' in messages['inst-1']
    tasks.reset_task.assert_called_once_with()
