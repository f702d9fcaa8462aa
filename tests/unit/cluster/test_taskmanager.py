"""Taskmanager glue: K2HR3 calls, failure recording, delete."""

from __future__ import annotations

from unittest import mock

import pytest
from trove.common import cfg
from trove.common.exception import GuestTimeout
from trove.instance.tasks import InstanceTasks
from trove.taskmanager import models as task_models

from tests.unit.cluster.fakering import FakeFleet
from tests.unit.cluster.fakering import Ring
from trove_k2hdkc import conf as k2hdkc_conf
from trove_k2hdkc.cluster import ringstate as rs
from trove_k2hdkc.cluster.procedures import Member
from trove_k2hdkc.cluster.procedures import NodeAccess
from trove_k2hdkc.cluster.registry import RegistryError
from trove_k2hdkc.cluster.taskmanager import K2hdkcClusterTasks
from trove_k2hdkc.cluster.taskmanager import K2hdkcTaskManagerStrategy

CONF = cfg.CONF
CLUSTER = '3f1c1e0a-5b7a-4c1e-9a57-6b1f2c3d4e5f'


class FakeRegistry:
    def __init__(self, ring, *, down=False):
        self.ring, self.down = ring, down
        self.log = []

    def _check(self, what):
        self.log.append(what)
        if self.down:
            raise RegistryError('K2HR3 %s failed: connection refused' % what)

    def provision(self):
        self._check('provision')
        return NodeAccess('https://k2hr3', 'yrn:res', 'yrn:role', 'tok')

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


def make_tasks(ring, registry, ids, ready=True):
    tasks = K2hdkcClusterTasks(mock.Mock(), mock.Mock(id=CLUSTER),
                               mock.Mock(), mock.Mock())
    tasks.registry_factory = lambda conf, ctx, cid: registry
    tasks.fleet_factory = lambda guests: FakeFleet(ring)
    tasks._ids = lambda cluster_id: list(ids)
    tasks._members = lambda ctx, want: (
        [Member(i, ring.nodes[i].ip) for i in want], {i: None for i in want})
    tasks._all_instances_ready = mock.Mock(return_value=ready)
    tasks.reset_task = mock.Mock()
    tasks.update_statuses_on_failure = mock.Mock()
    tasks._delete_instances = mock.Mock()
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


def test_grow_refused_on_unhealthy_ring_before_touching_k2hr3():
    ring = fresh_ring(2)
    healthy(ring)
    ring.nodes['inst-2'].code = rs.SERVICE_IN_DOWN
    ring.add('inst-3', '10.0.0.3')
    registry = FakeRegistry(ring)
    tasks = make_tasks(ring, registry, list(ring.nodes))
    tasks.grow_cluster(mock.Mock(), CLUSTER, ['inst-3'])
    assert registry.log == []
    tasks.update_statuses_on_failure.assert_called_once()


def test_shrink_success_deletes_leaver_after_k2hr3_removal():
    ring = fresh_ring(3)
    healthy(ring)
    registry = FakeRegistry(ring)
    tasks = make_tasks(ring, registry, list(ring.nodes))
    tasks.shrink_cluster(mock.Mock(), CLUSTER, ['inst-3'])
    tasks.update_statuses_on_failure.assert_not_called()
    assert registry.log == ['remove']
    assert ring.k2hr3_hosts == ['inst-1', 'inst-2']
    tasks._delete_instances.assert_called_once_with(
        mock.ANY, CLUSTER, ['inst-3'])


def test_shrink_failure_keeps_instances():
    ring = fresh_ring(3)
    healthy(ring)
    ring.faults[('inst-1', 'merge')] = GuestTimeout('timed out')
    tasks = make_tasks(ring, FakeRegistry(ring), list(ring.nodes))
    tasks.shrink_cluster(mock.Mock(), CLUSTER, ['inst-3'])
    tasks._delete_instances.assert_not_called()
    tasks.update_statuses_on_failure.assert_called_once_with(
        CLUSTER, status=InstanceTasks.SHRINKING_ERROR)


@mock.patch.object(task_models.ClusterTasks, 'delete_cluster')
def test_delete_when_k2hr3_is_down_still_deletes(base_delete, caplog):
    ring = fresh_ring(1)
    registry = FakeRegistry(ring, down=True)
    tasks = make_tasks(ring, registry, [])
    ctx = mock.Mock()
    tasks.delete_cluster(ctx, CLUSTER)
    assert registry.log == ['teardown']
    base_delete.assert_called_once_with(ctx, CLUSTER)


@mock.patch.object(task_models.ClusterTasks, 'delete_cluster')
def test_delete_when_k2hr3_login_fails(base_delete):
    ring = fresh_ring(1)
    tasks = make_tasks(ring, None, [])

    def refuse(conf, ctx, cid):
        raise RegistryError('K2HR3 login failed')
    tasks.registry_factory = refuse
    tasks.delete_cluster(mock.Mock(), CLUSTER)
    base_delete.assert_called_once()
