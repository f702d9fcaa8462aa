"""A backup set whose taskmanager died (doc/backup.md §6): the next
taskmanager finds the stale BACKING_UP task, ends the set (a member
backup never begun FAILED with the reason, one a guest runs waited for)
and gives the cluster task back. Over Trove's own tables."""

from __future__ import annotations

import contextlib
import datetime
import types
from unittest import mock

import eventlet
import pytest
from trove.backup.models import DBBackup
from trove.cluster.models import DBCluster
from trove.cluster.tasks import ClusterTasks
from trove.common import cfg

from tests.unit.cluster.test_api import db_row
from tests.unit.cluster.test_api import task_in_db
from tests.unit.cluster.test_orphans import Clock
from tests.unit.cluster.test_orphans import row_updated
from trove_k2hdkc import conf as k2hdkc_conf
from trove_k2hdkc.backupset import sets
from trove_k2hdkc.backupset import tasks as settasks
from trove_k2hdkc.cluster import orphans
from trove_k2hdkc.cluster import tasks as k2tasks
from trove_k2hdkc.cluster.taskmanager import K2hdkcClusterTasks

CONF = cfg.CONF
SET = '0b7f3c1e-1111-4d6e-9a55-2f0c4c1b7a01'


@pytest.fixture(autouse=True)
def _db(trove_db):
    k2hdkc_conf.register(CONF)
    CONF.set_override('task_orphan_after', 60, group='k2hdkc')
    CONF.set_override('task_heartbeat_interval', 10, group='k2hdkc')
    yield
    CONF.clear_override('task_orphan_after', group='k2hdkc')
    CONF.clear_override('task_heartbeat_interval', group='k2hdkc')


def member_backup(cluster_id, index, state, count=3, set_id=SET):
    return DBBackup.create(
        name='set1', description=sets.Tag(set_id, index, count, cluster_id,
                                          'nightly').description(),
        tenant_id='p', state=state, instance_id='inst-%d' % index,
        parent_id=None, datastore_version_id='dsv', deleted=False,
        location=None, checksum=None, backup_type='full', size=None,
        storage_driver='swift')


def state_of(backup_id):
    return DBBackup.find_by(id=backup_id).state


def take_over_and_resume(row):
    """What a new taskmanager does at start: ``orphans.recover`` takes
    the stale task and resumes it."""
    clock = Clock(row_updated(row.id) + datetime.timedelta(seconds=61))
    tasks = K2hdkcClusterTasks(mock.Mock(), DBCluster.find_by(id=row.id),
                               mock.Mock(), mock.Mock())
    return orphans.recover(
        lambda cid, code: tasks.resume_interrupted(mock.Mock(), cid, code),
        is_k2hdkc=lambda cid: True, sleep=clock.sleep, now=clock)


def test_a_set_whose_taskmanager_died_ends_and_frees_the_cluster():
    row = db_row(k2tasks.BACKING_UP)
    other = db_row(ClusterTasks.NONE)
    done = member_backup(row.id, 1, 'COMPLETED')
    never = member_backup(row.id, 2, 'NEW')
    running = member_backup(row.id, 3, 'BUILDING')
    elsewhere = member_backup(other.id, 1, 'NEW',
                              set_id=SET.replace('1111', '3333'))

    def guest_finishes():
        # the guest's backup outlives the taskmanager; it reports later
        eventlet.sleep(0)
        b = DBBackup.find_by(id=running.id)
        b.state = 'COMPLETED'
        b.save()
    eventlet.spawn(guest_finishes)

    assert take_over_and_resume(row) == [row.id]
    assert task_in_db(row.id) is ClusterTasks.NONE
    assert state_of(done.id) == 'COMPLETED'
    assert state_of(running.id) == 'COMPLETED'
    assert state_of(never.id) == 'FAILED'
    assert sets.failure(DBBackup.find_by(id=never.id).description) == \
        settasks.NOT_BEGUN
    # the set still parses as the same set, and says it failed
    found = sets.group(DBBackup.find_all(deleted=False).all())[SET]
    assert found.status == sets.FAILED
    assert found.view()['members'][1]['reason'] == settasks.NOT_BEGUN
    # another cluster's backups are not touched
    assert state_of(elsewhere.id) == 'NEW'


def test_a_member_backup_that_never_ends_is_failed_after_the_timeout(
        monkeypatch):
    row = db_row(k2tasks.BACKING_UP)
    stuck = member_backup(row.id, 1, 'BUILDING', count=1)
    CONF.set_override('cluster_usage_timeout', 0)
    try:
        take_over_and_resume(row)
    finally:
        CONF.clear_override('cluster_usage_timeout')
    assert task_in_db(row.id) is ClusterTasks.NONE
    assert state_of(stuck.id) == 'FAILED'
    assert 'no end reported within 0s' in sets.failure(
        DBBackup.find_by(id=stuck.id).description)


def test_the_take_over_holds_a_resuming_task_of_the_same_name():
    row = db_row(k2tasks.BACKING_UP)
    clock = Clock(row_updated(row.id) + datetime.timedelta(seconds=61))
    seen = []
    orphans.recover(lambda cid, code: seen.append(task_in_db(cid)),
                    is_k2hdkc=lambda cid: True, sleep=clock.sleep,
                    now=clock)
    assert seen == [k2tasks.RESUMING_BACKUP]
    assert seen[0].name == 'BACKING_UP'


def test_a_running_set_beats_its_heartbeat(monkeypatch):
    """So a live set is never taken over by a taskmanager starting."""
    beats = []

    @contextlib.contextmanager
    def heartbeat(cluster_id, codes, interval):
        beats.append((cluster_id, codes))
        yield
    monkeypatch.setattr(settasks.orphans, 'heartbeat', heartbeat)
    monkeypatch.setattr(settasks, 'start_backups', lambda ctx, infos: None)
    monkeypatch.setattr(settasks, 'wait_ended',
                        lambda ids, timeout: dict.fromkeys(ids, 'COMPLETED'))
    monkeypatch.setattr(settasks, 'project_context', lambda ctx, p: ctx)
    reset = []
    tasks = types.SimpleNamespace(
        _cast_for=lambda cid, task: True,
        db_info=types.SimpleNamespace(tenant_id='p'),
        reset_task=lambda: reset.append(True))
    settasks.backup_cluster(tasks, mock.Mock(), 'c1', [{'id': 'b1'}],
                            k2tasks.BACKING_UP)
    assert beats == [('c1', frozenset({k2tasks.BACKING_UP.code}))]
    assert reset == [True]
