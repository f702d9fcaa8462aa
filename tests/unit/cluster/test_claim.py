"""One cluster task at a time: the claim is one conditional UPDATE.

The race the old code lost: two requests both read the task as NONE,
both passed the check and both saved their own task. Two cluster objects
loaded before either acts reproduce exactly that interleaving.
"""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from trove.cluster.models import DBCluster
from trove.cluster.tasks import ClusterTasks

from tests.unit.cluster.test_api import cluster
from tests.unit.cluster.test_api import db_row
from tests.unit.cluster.test_api import opts  # noqa: F401 (autouse)
from tests.unit.cluster.test_api import spec
from tests.unit.cluster.test_api import task_in_db
from trove_k2hdkc.cluster import api
from trove_k2hdkc.cluster import claim
from trove_k2hdkc.cluster import faults
from trove_k2hdkc.cluster import tasks as k2tasks
from trove_k2hdkc.cluster.taskmanager import K2hdkcClusterTasks


@pytest.fixture(autouse=True)
def _db(trove_db):
    """Every test here reads or writes the ``clusters`` table."""


@pytest.fixture
def handoff():
    """The casts and Nova calls a hand-off makes, all recorded."""
    with mock.patch.object(api.task_api, 'load') as tm_load, \
            mock.patch.object(api.Instance, 'create',
                              return_value=mock.Mock(id='new')), \
            mock.patch.object(api.K2hdkcCluster, 'server_group', None), \
            mock.patch.object(api.cluster_models.srv_grp.ServerGroup,
                              'delete'), \
            mock.patch.object(api.cluster_models.task_api, 'API'):
        yield tm_load.return_value


OPERATIONS = {
    'grow': lambda c: c.grow(spec(1)),
    'shrink': lambda c: c.shrink(['i2']),
    'restart': lambda c: c.restart(),
    'upgrade': lambda c: c.upgrade(mock.Mock(id='dsv-2')),
    'delete': lambda c: c.delete(),
}
TASK_OF = {'grow': ClusterTasks.GROWING_CLUSTER,
           'shrink': ClusterTasks.SHRINKING_CLUSTER,
           'restart': ClusterTasks.RESTARTING_CLUSTER,
           'upgrade': ClusterTasks.UPGRADING_CLUSTER,
           'delete': ClusterTasks.DELETING}


@pytest.mark.parametrize('first', sorted(OPERATIONS))
@pytest.mark.parametrize('second', sorted(OPERATIONS))
def test_two_requests_that_read_together_one_wins(handoff, first, second):
    if first == second == 'delete':
        pytest.skip('a repeated delete retries the running one, by design '
                    '(test_delete_may_repeat_while_deleting)')
    row = db_row()
    winner, loser = cluster(row=row), cluster(row=row)   # both read NONE
    OPERATIONS[first](winner)
    with pytest.raises(faults.ClusterBusy) as err:
        OPERATIONS[second](loser)
    assert err.value.code == 409
    assert TASK_OF[first].name in err.value.detail
    assert task_in_db(row.id) == TASK_OF[first]


def test_concurrent_claims_exactly_one_wins():
    row = db_row()
    rows = [DBCluster.find_by(id=row.id) for _ in range(6)]
    start = threading.Barrier(len(rows))
    won, busy = [], []

    def attempt(db_info, task):
        start.wait()
        try:
            claim.claim(db_info, task)
            won.append(task)
        except faults.ClusterBusy as exc:
            busy.append(exc)

    tasks = list(TASK_OF.values()) + [ClusterTasks.GROWING_CLUSTER]
    threads = [threading.Thread(target=attempt, args=pair)
               for pair in zip(rows, tasks, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and len(busy) == 5
    assert task_in_db(row.id) == won[0]
    assert all(won[0].name in exc.detail for exc in busy)


def test_failed_handoff_gives_the_task_back(handoff):
    handoff.restart_cluster.side_effect = RuntimeError('mq down')
    c = cluster()
    with pytest.raises(RuntimeError):
        c.restart()
    assert task_in_db(c.id) == ClusterTasks.NONE
    handoff.restart_cluster.side_effect = None
    c.restart()
    assert task_in_db(c.id) == ClusterTasks.RESTARTING_CLUSTER


def test_release_leaves_another_task_alone():
    row = db_row(ClusterTasks.SHRINKING_CLUSTER)
    claim.release(DBCluster.find_by(id=row.id), ClusterTasks.GROWING_CLUSTER)
    assert task_in_db(row.id) == ClusterTasks.SHRINKING_CLUSTER


def test_delete_may_repeat_while_deleting(handoff):
    c = cluster(ClusterTasks.DELETING)
    c.delete()
    assert task_in_db(c.id) == ClusterTasks.DELETING


def test_delete_runs_again_after_a_failed_delete(handoff):
    """DELETE_FAILED (K2HR3 objects remained, doc/k2hr3-layout.md §4) is
    not a dead end: a new delete claims the cluster and casts again."""
    c = cluster(k2tasks.DELETE_FAILED)
    with mock.patch.object(api.cluster_models.task_api, 'API') as tm:
        c.delete()
    assert task_in_db(c.id) == ClusterTasks.DELETING
    tm.return_value.delete_cluster.assert_called_once_with(c.id)


def test_delete_failed_lands_only_from_deleting():
    row = db_row(ClusterTasks.DELETING)
    assert claim.switch(row.id, ClusterTasks.DELETING, k2tasks.DELETE_FAILED)
    assert task_in_db(row.id) == k2tasks.DELETE_FAILED
    other = db_row(ClusterTasks.GROWING_CLUSTER)
    assert not claim.switch(other.id, ClusterTasks.DELETING,
                            k2tasks.DELETE_FAILED)


def test_busy_names_unknown_when_cluster_vanished():
    exc = faults.ClusterBusy('cid', ClusterTasks.GROWING_CLUSTER, None)
    assert exc.code == 409 and 'unknown' in exc.detail


# -- the taskmanager's guard -------------------------------------------

def tm_tasks():
    tasks = K2hdkcClusterTasks(mock.Mock(), mock.Mock(), mock.Mock(),
                               mock.Mock())
    tasks.registry_factory = mock.Mock(side_effect=AssertionError('ran'))
    tasks.reset_task = mock.Mock()
    tasks._ids = lambda cluster_id: ['a', 'b']
    tasks._whole = mock.Mock(side_effect=AssertionError('ran'))
    return tasks


CASTS = {
    'grow': (ClusterTasks.GROWING_CLUSTER,
             lambda t, cid: t.grow_cluster(mock.Mock(), cid, ['b'])),
    'shrink': (ClusterTasks.SHRINKING_CLUSTER,
               lambda t, cid: t.shrink_cluster(mock.Mock(), cid, ['b'])),
    'restart': (ClusterTasks.RESTARTING_CLUSTER,
                lambda t, cid: t.restart_cluster(mock.Mock(), cid)),
    'upgrade': (ClusterTasks.UPGRADING_CLUSTER,
                lambda t, cid: t.upgrade_cluster(mock.Mock(), cid,
                                                 mock.Mock(version='2'))),
}


@pytest.mark.parametrize('name', sorted(CASTS))
def test_taskmanager_refuses_a_cast_the_cluster_task_does_not_match(name):
    own, run = CASTS[name]
    other = (ClusterTasks.SHRINKING_CLUSTER
             if own != ClusterTasks.SHRINKING_CLUSTER
             else ClusterTasks.GROWING_CLUSTER)
    row = db_row(other)
    tasks = tm_tasks()
    run(tasks, row.id)
    tasks.reset_task.assert_not_called()     # the other task keeps it
    assert task_in_db(row.id) == other


@pytest.mark.parametrize('name', sorted(CASTS))
def test_taskmanager_runs_the_cast_its_task_holds(name):
    own, run = CASTS[name]
    row = db_row(own)
    tasks = tm_tasks()
    with mock.patch.object(tasks, 'update_statuses_on_failure'), \
            mock.patch.object(tasks, '_record_fault'):
        run(tasks, row.id)
    # it ran (and failed on the seams above), then ended its own task
    tasks.reset_task.assert_called_once_with()
