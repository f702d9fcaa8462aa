"""A cluster task whose taskmanager died is found by its stale heartbeat
and taken over exactly once (doc/ring-procedures.md §11); its end is
recorded on every member."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from trove.cluster.models import DBCluster
from trove.cluster.tasks import ClusterTasks
from trove.common import cfg
from trove.instance.tasks import InstanceTasks

from tests.unit.cluster.fakering import FakeFleet
from tests.unit.cluster.test_api import db_row
from tests.unit.cluster.test_api import task_in_db
from tests.unit.cluster.test_resume import IDS
from tests.unit.cluster.test_resume import ring_of
from tests.unit.cluster.test_taskmanager import fault_messages
from tests.unit.cluster.test_taskmanager import faults  # noqa: F401
from tests.unit.cluster.test_taskmanager import k2hdkc_opts  # noqa: F401
from trove_k2hdkc import conf as k2hdkc_conf
from trove_k2hdkc.cluster import orphans
from trove_k2hdkc.cluster import resume
from trove_k2hdkc.cluster import ringstate as rs
from trove_k2hdkc.cluster import taskmanager
from trove_k2hdkc.cluster import tasks as k2tasks
from trove_k2hdkc.cluster.taskmanager import K2hdkcClusterTasks

CONF = cfg.CONF


@pytest.fixture(autouse=True)
def _db(trove_db):
    k2hdkc_conf.register(CONF)
    CONF.set_override('task_orphan_after', 60, group='k2hdkc')
    CONF.set_override('task_heartbeat_interval', 10, group='k2hdkc')
    yield
    CONF.clear_override('task_orphan_after', group='k2hdkc')
    CONF.clear_override('task_heartbeat_interval', group='k2hdkc')


class Clock:
    """``now`` for ``recover``; ``sleep`` moves it on."""

    def __init__(self, start: datetime.datetime) -> None:
        self.now = start
        self.slept = 0.0

    def __call__(self) -> datetime.datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += datetime.timedelta(seconds=seconds)


def row_updated(cluster_id: str) -> datetime.datetime:
    return DBCluster.find_by(id=cluster_id).updated


def test_a_stale_task_is_taken_over_once_and_resumed():
    row = db_row(ClusterTasks.GROWING_CLUSTER)
    clock = Clock(row_updated(row.id) + datetime.timedelta(seconds=61))
    resumed = []
    taken = orphans.recover(lambda cid, code: resumed.append((cid, code)),
                            is_k2hdkc=lambda cid: True, sleep=clock.sleep,
                            now=clock)
    assert taken == [row.id]
    assert resumed == [(row.id, ClusterTasks.GROWING_CLUSTER.code)]
    assert task_in_db(row.id) is k2tasks.RESUMING_GROW
    assert task_in_db(row.id).name == 'GROWING_CLUSTER'


def test_take_over_misses_once_the_row_moved():
    """Two taskmanagers starting together read the same row: only the
    first conditional UPDATE matches; a heartbeat makes both miss."""
    row = db_row(ClusterTasks.SHRINKING_CLUSTER)
    seen = row_updated(row.id)
    assert orphans.take_over(row.id, row.task_id, seen)
    assert not orphans.take_over(row.id, row.task_id, seen)

    other = db_row(k2tasks.GROWING_MERGE)
    seen = row_updated(other.id)
    with mock.patch('trove.common.timeutils.utcnow',
                    return_value=seen + datetime.timedelta(seconds=5)):
        assert orphans.beat(other.id, k2tasks.HELD[
            ClusterTasks.GROWING_CLUSTER.code])
    assert not orphans.take_over(other.id, other.task_id, seen)


def test_a_live_owner_keeps_its_task():
    """Fresh at startup, then its owner's heartbeat: never taken, and no
    longer watched."""
    row = db_row(ClusterTasks.GROWING_CLUSTER)
    clock = Clock(row_updated(row.id))

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        with mock.patch('trove.common.timeutils.utcnow',
                        return_value=clock.now):
            orphans.beat(row.id, frozenset({row.task_id}))
    resumed = []
    assert orphans.recover(lambda *a: resumed.append(a),
                           is_k2hdkc=lambda cid: True, sleep=sleep,
                           now=clock) == []
    assert resumed == []
    assert task_in_db(row.id) is ClusterTasks.GROWING_CLUSTER


def test_a_task_seen_fresh_is_taken_once_its_heartbeat_stops():
    row = db_row(ClusterTasks.SHRINKING_CLUSTER)
    clock = Clock(row_updated(row.id))
    resumed = []
    orphans.recover(lambda cid, code: resumed.append(cid),
                    is_k2hdkc=lambda cid: True, sleep=clock.sleep, now=clock)
    assert resumed == [row.id]
    assert clock.slept >= 60


def test_other_datastores_and_idle_clusters_are_left_alone():
    other = db_row(ClusterTasks.GROWING_CLUSTER)
    idle = db_row(ClusterTasks.NONE)
    clock = Clock(row_updated(other.id) + datetime.timedelta(hours=1))
    assert orphans.recover(mock.Mock(), is_k2hdkc=lambda cid: False,
                           sleep=clock.sleep, now=clock) == []
    assert task_in_db(other.id) is ClusterTasks.GROWING_CLUSTER
    assert task_in_db(idle.id) is ClusterTasks.NONE


def test_start_once_runs_once_per_process():
    with mock.patch.object(orphans, '_done', False), \
            mock.patch.object(orphans.eventlet, 'spawn') as spawn:
        assert orphans.start_once(mock.Mock(), mock.Mock())
        assert not orphans.start_once(mock.Mock(), mock.Mock())
    assert spawn.call_count == 1


# -- the taskmanager's end of a resumed task -----------------------------

def resumed_tasks(ring, row, ready=()):
    tasks = K2hdkcClusterTasks(mock.Mock(), DBCluster.find_by(id=row.id),
                               mock.Mock(), mock.Mock())
    tasks.fleet_factory = lambda guests: FakeFleet(ring)
    tasks.guest_factory = staticmethod(lambda ctx, iid: None)
    tasks._ids = lambda cluster_id: list(IDS)
    tasks.awaiting_complete = staticmethod(lambda iid: iid in ready)
    tasks.update_statuses_on_failure = mock.Mock()
    tasks.statuses = {}
    tasks._update_member = lambda iid, **v: tasks.statuses.update(
        {iid: v['task_status']})
    return tasks


def test_resumed_grow_ends_new_topology_and_says_so(faults):  # noqa: F811
    row = db_row(k2tasks.RESUMING_GROW)
    ring = ring_of({'inst-1': rs.PENDING, 'inst-2': rs.HEALTHY,
                    'inst-3': rs.HEALTHY, 'inst-4': rs.ADD_PENDING})
    tasks = resumed_tasks(ring, row, ready={'inst-4'})
    tasks.resume_interrupted(mock.Mock(), row.id,
                             ClusterTasks.GROWING_CLUSTER.code)
    assert task_in_db(row.id) is ClusterTasks.NONE
    assert tasks.statuses == dict.fromkeys(IDS, InstanceTasks.NONE)
    assert ring.nodes['inst-4'].completed
    assert not ring.nodes['inst-1'].completed
    messages = fault_messages(faults)
    assert set(messages) == set(IDS)
    text = messages['inst-1']
    assert text.startswith('grow interrupted by a taskmanager restart at '
                           'the merge of the ring')
    assert 'serving with 4 members in the ring' in text


def test_resumed_grow_that_never_joined_marks_the_new_member(faults):  # noqa: F811,E501
    row = db_row(k2tasks.RESUMING_GROW)
    ring = ring_of({'inst-1': rs.HEALTHY, 'inst-2': rs.HEALTHY,
                    'inst-3': rs.HEALTHY}, listed=IDS[:3])
    tasks = resumed_tasks(ring, row)
    tasks.resume_interrupted(mock.Mock(), row.id, row.task_id)
    assert task_in_db(row.id) is ClusterTasks.NONE
    assert tasks.statuses['inst-4'] is InstanceTasks.GROWING_ERROR
    assert tasks.statuses['inst-1'] is InstanceTasks.NONE
    text = fault_messages(faults)['inst-4']
    assert 'serving with 3 members' in text
    assert 'inst-4 did not join the ring: remove them with openstack ' \
           'database cluster shrink' in text


def test_a_resume_that_fails_still_ends_the_task(faults):  # noqa: F811
    row = db_row(k2tasks.RESUMING_SHRINK)
    ring = ring_of({'inst-1': rs.PENDING, 'inst-2': rs.HEALTHY,
                    'inst-3': rs.HEALTHY, 'inst-4': rs.DELETE_PENDING})
    ring.view_lag['inst-3'] = 1e9
    ring.faults[('inst-3', 'node_status')] = TimeoutError('no reply')
    tasks = resumed_tasks(ring, row)
    tasks.resume_interrupted(mock.Mock(), row.id, row.task_id)
    assert task_in_db(row.id) is ClusterTasks.NONE
    tasks.update_statuses_on_failure.assert_called_once_with(
        row.id, status=InstanceTasks.SHRINKING_ERROR)
    assert 'resuming it failed: resume: the ring is merging but inst-3 ' \
           'is down' in fault_messages(faults)['inst-2']


def test_resume_message_for_a_shrink_names_what_is_left():
    text = taskmanager.resume_message(resume.SHRINK, resume.Outcome(
        ['a', 'b'], ['c'], 'after the leavers left the ring', 'stopped c'))
    assert text == (
        'shrink interrupted by a taskmanager restart at after the leavers '
        'left the ring; resumed: stopped c; the cluster is serving with 2 '
        'members in the ring (a, b); c left the ring and stopped, but '
        'K2HR3 and Trove still list them: run the shrink of them again')


# -- a create whose taskmanager died --------------------------------------

def test_a_stale_create_is_taken_over_too():
    row = db_row(ClusterTasks.BUILDING_INITIAL)
    clock = Clock(row_updated(row.id) + datetime.timedelta(seconds=61))
    resumed = []
    taken = orphans.recover(lambda cid, code: resumed.append((cid, code)),
                            is_k2hdkc=lambda cid: True, sleep=clock.sleep,
                            now=clock)
    assert taken == [row.id]
    assert resumed == [(row.id, ClusterTasks.BUILDING_INITIAL.code)]
    assert task_in_db(row.id) is k2tasks.RESUMING_CREATE
    assert task_in_db(row.id).name == 'BUILDING'


def create_taken_over(ring, teardown_error=None):
    row = db_row(k2tasks.RESUMING_CREATE)
    tasks = resumed_tasks(ring, row)
    registry = mock.Mock()
    registry.teardown.side_effect = teardown_error
    made = []
    tasks.registry_factory = lambda conf, ctx, cid: made.append(
        (ctx, cid)) or registry
    tasks.owner_context_for = lambda ctx, cid: 'owner of %s' % cid
    tasks.resume_interrupted(mock.Mock(), row.id,
                             ClusterTasks.BUILDING_INITIAL.code)
    return row, tasks, registry, made


def test_an_orphaned_create_is_failed_clearly_and_its_k2hr3_removed(
        faults):  # noqa: F811
    ring = ring_of(dict.fromkeys(IDS[:3], rs.HEALTHY), listed=IDS[:3])
    row, tasks, registry, made = create_taken_over(ring)
    assert task_in_db(row.id) is ClusterTasks.NONE
    # in the owner's project: the request's token died with the request
    assert made == [('owner of %s' % row.id, row.id)]
    registry.teardown.assert_called_once_with()
    tasks.update_statuses_on_failure.assert_called_once_with(
        row.id, status=InstanceTasks.BUILDING_ERROR_SERVER)
    messages = fault_messages(faults)
    assert set(messages) == set(IDS)
    assert messages['inst-1'] == (
        'create interrupted by a taskmanager restart: the cluster was not '
        'finished and is not resumed; its K2HR3 objects were removed; '
        'delete the cluster and create it again')
    # nothing was asked of the guests
    assert ring.calls == []


def test_an_orphaned_create_whose_teardown_fails_still_ends(
        faults):  # noqa: F811
    ring = ring_of(dict.fromkeys(IDS[:3], rs.HEALTHY), listed=IDS[:3])
    row, tasks, _, _ = create_taken_over(
        ring, teardown_error=RuntimeError('K2HR3 down'))
    assert task_in_db(row.id) is ClusterTasks.NONE
    assert 'removing its K2HR3 objects failed (RuntimeError); deleting ' \
           'the cluster removes them' in fault_messages(faults)['inst-2']


def test_a_queued_create_cast_does_not_run_after_the_take_over():
    row = db_row(k2tasks.RESUMING_CREATE)
    tasks = K2hdkcClusterTasks(mock.Mock(), DBCluster.find_by(id=row.id),
                               mock.Mock(), mock.Mock())
    tasks.registry_factory = mock.Mock()
    with mock.patch.object(taskmanager, 'start_recovery'):
        tasks.create_cluster(mock.Mock(), row.id)
    tasks.registry_factory.assert_not_called()
    assert task_in_db(row.id) is k2tasks.RESUMING_CREATE
