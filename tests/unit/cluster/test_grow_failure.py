"""A grow whose member creation fails part way leaves no member behind
and answers a clear error, never a bare 500."""

from __future__ import annotations

from unittest import mock

import pytest
from trove.cluster.tasks import ClusterTasks
from trove.common import exception
from trove.instance.models import DBInstance
from trove.instance.tasks import InstanceTasks

from tests.unit.cluster.test_api import Recorded
from tests.unit.cluster.test_api import db_row
from tests.unit.cluster.test_api import dsv
from tests.unit.cluster.test_api import opts  # noqa: F401 (autouse)
from tests.unit.cluster.test_api import spec
from tests.unit.cluster.test_api import task_in_db
from trove_k2hdkc.cluster import api
from trove_k2hdkc.cluster import faults
from trove_k2hdkc.cluster.taskmanager import K2hdkcClusterTasks
from trove_k2hdkc.cluster.taskmanager import K2hdkcTaskManagerStrategy


@pytest.fixture(autouse=True)
def _db(trove_db):
    """Members are real ``instances`` rows: orphans must be visible."""


def member_row(cluster_id, name):
    return DBInstance.create(name=name, flavor_id='7', tenant_id='p',
                             volume_size=2, datastore_version_id='dsv',
                             task_status=InstanceTasks.NONE,
                             cluster_id=cluster_id, type='member')


def live_members(cluster_id):
    return {db.name for db in DBInstance.find_all(cluster_id=cluster_id,
                                                  deleted=False).all()}


def grow_cluster():
    row = db_row()
    for name in ('old-1', 'old-2'):
        member_row(row.id, name)
    c = api.K2hdkcCluster(mock.Mock(project_id='p'),
                          api.cluster_models.DBCluster.find_by(id=row.id),
                          mock.Mock(), dsv())
    recorded = Recorded()
    c.registry_factory = lambda conf, context, cid: recorded
    return c


def creating(cluster_id, fail_on, error):
    """``Instance.create`` that writes each member's row (as Trove does
    before casting) and raises on call ``fail_on`` after writing it."""
    calls = []

    def create(context, name, *args, **kwargs):
        calls.append(name)
        db = member_row(cluster_id, 'new-%d' % len(calls))
        if len(calls) == fail_on:
            raise error
        return mock.Mock(id=db.id)
    return mock.patch.object(api.Instance, 'create', side_effect=create)


@pytest.fixture
def tm():
    with mock.patch.object(api.task_api, 'load') as load, \
            mock.patch.object(api.K2hdkcCluster, 'server_group', None):
        yield load.return_value


def test_second_of_two_failing_leaves_no_orphan_and_a_clear_503(tm):
    c = grow_cluster()
    with creating(c.id, 2, RuntimeError('nova: no valid host')):
        with pytest.raises(faults.GrowFailed) as err:
            c.grow(spec(2))
    assert err.value.code == 503
    assert 'no valid host' in err.value.detail
    assert 'ring was not touched' in err.value.detail
    # the row whose creation failed is gone at once; the one being built
    # is handed to the taskmanager, which holds the task until it is gone
    assert live_members(c.id) == {'old-1', 'old-2', 'new-1'}
    (cid, handed), _ = tm.discard_members.call_args
    assert cid == c.id
    assert [DBInstance.find_by(id=i).name for i in handed] == ['new-1']
    tm.grow_cluster.assert_not_called()
    assert task_in_db(c.id) == ClusterTasks.GROWING_CLUSTER

    tasks = K2hdkcClusterTasks(mock.Mock(), c.db_info, mock.Mock(),
                               mock.Mock())
    tasks._all_instances_ready = mock.Mock(return_value=False)
    seen = []

    def delete(context, cluster_id, ids):
        # Trove deletes cluster members only while shrinking or deleting
        seen.append(task_in_db(cluster_id))
        for i in ids:
            DBInstance.find_by(id=i).delete()
    tasks._delete_instances = delete
    tasks.discard_members(mock.Mock(), c.id, handed)
    assert seen == [ClusterTasks.SHRINKING_CLUSTER]
    assert live_members(c.id) == {'old-1', 'old-2'}
    assert task_in_db(c.id) == ClusterTasks.NONE


def test_a_trove_error_keeps_its_code_and_nothing_is_left(tm):
    c = grow_cluster()
    with creating(c.id, 1, exception.QuotaExceeded(overs='instances')):
        with pytest.raises(exception.QuotaExceeded):
            c.grow(spec(2))
    assert live_members(c.id) == {'old-1', 'old-2'}
    tm.discard_members.assert_not_called()
    assert task_in_db(c.id) == ClusterTasks.NONE


def test_members_that_cannot_be_handed_off_are_named(tm):
    tm.discard_members.side_effect = RuntimeError('mq down')
    c = grow_cluster()
    with creating(c.id, 2, RuntimeError('boom')):
        with pytest.raises(faults.GrowFailed) as err:
            c.grow(spec(2))
    assert 'could not be removed' in err.value.detail
    assert task_in_db(c.id) == ClusterTasks.NONE


def test_discard_is_a_taskmanager_action():
    actions = K2hdkcTaskManagerStrategy().task_manager_manager_actions
    assert 'discard_members' in actions


def test_taskmanager_undo_deletes_members_while_shrinking():
    """A grow undone before the ring is touched deletes its members; Trove
    refuses to delete a member of a cluster that is GROWING."""
    c = grow_cluster()
    new = member_row(c.id, 'new-1')
    c.db_info.update(task_status=ClusterTasks.GROWING_CLUSTER)
    tasks = K2hdkcClusterTasks(mock.Mock(), c.db_info, mock.Mock(),
                               mock.Mock())
    registry = mock.Mock()
    registry.provision.side_effect = RuntimeError('K2HR3 down')
    tasks.registry_factory = lambda conf, ctx, cid: registry
    tasks._wait_ready = mock.Mock()
    tasks._members = lambda ctx, ids: ([], {})
    tasks._procedures = mock.Mock(return_value=(mock.Mock(), mock.Mock()))
    tasks._record_fault = mock.Mock()
    seen = []
    tasks._delete_instances = lambda ctx, cid, ids: seen.append(
        (task_in_db(cid), list(ids)))
    tasks.grow_cluster(mock.Mock(), c.id, [new.id])
    assert seen == [(ClusterTasks.SHRINKING_CLUSTER, [new.id])]
    assert task_in_db(c.id) == ClusterTasks.NONE
