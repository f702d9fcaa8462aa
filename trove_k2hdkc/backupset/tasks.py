"""Taskmanager side of cluster backup sets (doc/backup.md §6).

* ``backup_cluster``: the API claimed the cluster task ``BACKING_UP`` and
  recorded one Trove backup per member; here every member's guest is
  asked to back up (Trove's own per-instance backup path, which adds the
  Swift URL), then the task waits until every backup has ended and gives
  the cluster back. No grow, shrink or other task can run meanwhile.
* ``restore_plan``: which new member loads which backup of a set: ring
  order to ring order.
* ``delete_set``: Trove's backup deletion (Swift manifest and segments)
  for every member backup.
* ``end_interrupted``: the set of a taskmanager that died (its task has
  no heartbeat, ``cluster.orphans``): a member backup never begun is
  FAILED with the reason, one a guest runs is waited for, so the set
  ends COMPLETED or FAILED, never BUILDING for ever.

Swift and the backups belong to the cluster's project, so the work is
done with a context of that project whoever asked (``cluster.owner``).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
import time
from typing import Any

import eventlet
from oslo_log import log as logging
from trove.backup.models import DBBackup
from trove.backup.state import BackupState
from trove.common import cfg
from trove.common.context import TroveContext
from trove.taskmanager import models as task_models

from trove_k2hdkc.backupset import sets
from trove_k2hdkc.cluster import orphans
from trove_k2hdkc.cluster import owner
from trove_k2hdkc.guest.backup import failed_description

LOG = logging.getLogger(__name__)
CONF = cfg.CONF
POLL = 2.0


def project_context(context: Any, project_id: str) -> Any:
    """``context`` when it is of ``project_id``, else a Trove context
    with a token of that project (``owner.owner_context``)."""
    ctx = owner.owner_context(context, project_id)
    if ctx is context:
        return context
    return TroveContext(auth_token=ctx.auth_token, project_id=project_id,
                        user_id=getattr(context, 'user_id', None),
                        is_admin=False, roles=['member'],
                        request_id=getattr(context, 'request_id', None))


def _fail(backup_id: str, why: str) -> None:
    """FAILED, with ``why`` where ``backup show`` and the set's ``show``
    print it (the description, as the guest records its failures)."""
    LOG.error('Backup %s of a set failed: %s', backup_id, why)
    try:
        row = DBBackup.find_by(id=backup_id, deleted=False)
    except Exception:
        return
    if row.state in BackupState.RUNNING_STATES:
        row.state = BackupState.FAILED
        row.description = failed_description(row.description, why)
        row.save()


def start_backups(context: Any, infos: Sequence[dict[str, Any]],
                  load: Callable[[Any, str], Any] | None = None) -> None:
    """Ask each member's guest for its backup (a cast: each guest then
    reports BUILDING, COMPLETED or FAILED to the conductor)."""
    load = load or task_models.BuiltInstanceTasks.load
    for info in infos:
        try:
            load(context, info['instance_id']).create_backup(dict(info))
        except Exception as exc:
            _fail(info['id'], '%s: %s' % (type(exc).__name__, exc))


def wait_ended(backup_ids: Sequence[str], timeout: float,
               sleep: Callable[[float], None] = eventlet.sleep,
               monotonic: Callable[[], float] = time.monotonic
               ) -> dict[str, str]:
    """Until no backup of ``backup_ids`` runs; one still running after
    ``timeout`` is marked FAILED. Returns each backup's state."""
    deadline = monotonic() + timeout
    while True:
        states = {b: DBBackup.find_by(id=b).state for b in backup_ids}
        running = [b for b, s in states.items()
                   if s in BackupState.RUNNING_STATES]
        if not running:
            return states
        if monotonic() > deadline:
            for b in running:
                _fail(b, 'no end reported within %ss' % timeout)
                states[b] = BackupState.FAILED
            return states
        sleep(POLL)


def backup_cluster(cluster_tasks: Any, context: Any, cluster_id: str,
                   infos: Sequence[dict[str, Any]], task: Any) -> None:
    """The whole set under the cluster task ``task`` (claimed by the
    API); the task is given back however it ends."""
    ids = [i['id'] for i in infos]
    try:
        if not cluster_tasks._cast_for(cluster_id, task):
            for b in ids:
                _fail(b, 'the cluster task changed before the set ran')
            return
        LOG.info('Cluster %s: backup set of %d members begins',
                 cluster_id, len(infos))
        with orphans.heartbeat(cluster_id, frozenset({task.code}),
                               CONF.get('k2hdkc').task_heartbeat_interval):
            start_backups(project_context(
                context, cluster_tasks.db_info.tenant_id), infos)
            states = wait_ended(ids, CONF.cluster_usage_timeout)
        failed = sorted(b for b, s in states.items()
                        if s != BackupState.COMPLETED)
        if failed:
            LOG.error('Cluster %s: backup set failed; member backups '
                      'not completed: %s', cluster_id, ', '.join(failed))
        else:
            LOG.info('Cluster %s: backup set completed', cluster_id)
    except Exception:
        LOG.exception('Cluster %s: backup set failed', cluster_id)
        for b in ids:
            _fail(b, 'the set failed')
    finally:
        cluster_tasks.reset_task()


def restore_plan(context: Any, member_ids: Sequence[str],
                 backup_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """New member id -> the ``restore_node`` backup_info of the backup
    at the same ring position (``backup_ids`` are in ring order)."""
    order = sets.ring_order(list(member_ids))
    if len(order) != len(backup_ids):
        raise ValueError('%d members for a set of %d backups'
                         % (len(order), len(backup_ids)))
    plan = {}
    for member, backup_id in zip(order, backup_ids, strict=True):
        row = DBBackup.find_by(id=backup_id, deleted=False)
        plan[member] = {
            'id': row.id, 'location': row.location,
            'checksum': row.checksum, 'type': row.backup_type,
            'storage_driver': row.storage_driver,
            # The account that holds it (the set's project's).
            'swift_url': row.location.rsplit('/', 2)[0]}
    return plan


def delete_set(context: Any, project_id: str,
               backup_ids: Sequence[str]) -> None:
    """Trove's backup deletion for every member; one that fails shows
    DELETE_FAILED (Trove's) and the others still go."""
    ctx = project_context(context, project_id)
    for backup_id in backup_ids:
        try:
            task_models.BackupTasks.delete_backup(ctx, backup_id)
        except Exception:
            LOG.exception('Deleting backup %s of a set failed', backup_id)


NOT_BEGUN = ('the taskmanager stopped before this member backup began; '
             'take a new backup set')


def running_members(cluster_id: str) -> list[Any]:
    """The member backups of ``cluster_id``'s sets that have not ended."""
    rows = DBBackup.find_all(deleted=False).all()
    return [r for r in rows
            if r.state in BackupState.RUNNING_STATES
            and (sets.parse(r.description) or _NOTAG).cluster_id
            == cluster_id]


_NOTAG = sets.Tag('', 0, 0, '')


def end_interrupted(cluster_id: str, task: Any) -> dict[str, str]:
    """End the set(s) a dead taskmanager was making (its task ``task``
    is now held here, ``cluster.orphans``). Its heartbeat stopped
    ``task_orphan_after`` ago, so a member backup still NEW was never
    begun by a guest: FAILED with the reason. One a guest reported
    BUILDING runs on there (the guest's cast outlives the taskmanager):
    waited for, as the dead one would have. Returns each state."""
    rows = running_members(cluster_id)
    states = {}
    for row in rows:
        if row.state == BackupState.NEW:
            _fail(row.id, NOT_BEGUN)
            states[row.id] = BackupState.FAILED
    building = [r.id for r in rows if r.id not in states]
    if building:
        with orphans.heartbeat(cluster_id, frozenset({task.code}),
                               CONF.get('k2hdkc').task_heartbeat_interval):
            states.update(wait_ended(building, CONF.cluster_usage_timeout))
    return states
