"""Taskmanager side: drive K2HR3 and the ring procedures for a cluster.

Thin glue: Trove models in, ``procedures.Procedures`` and
``registry.ClusterRegistry`` do the work. Every operation runs under
``eventlet.Timeout(CONF.cluster_usage_timeout)``; a failure is logged
with its step and saved as each member's instance fault (what ``instance
show`` prints), the members get an error task status
(``update_statuses_on_failure``) unless the operation could be undone,
and the cluster task returns to NONE so that it can be deleted or
retried. Progress goes to the taskmanager log; the read/write outage
window of grow and shrink also shows as the cluster task's description
(``tasks.MERGE_WINDOW``).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

from eventlet.timeout import Timeout
from oslo_log import log as logging
from oslo_utils import timeutils
from trove.cluster.models import Cluster
from trove.cluster.tasks import ClusterTask
from trove.cluster.tasks import ClusterTasks
from trove.common import cfg
from trove.common import clients
from trove.common import exception as trove_exc
from trove.common import utils
from trove.common.context import TroveContext
from trove.common.strategies.cluster import base as cluster_base
from trove.instance.models import DBInstance
from trove.instance.models import DBInstanceFault
from trove.instance.models import Instance
from trove.instance.models import InstanceServiceStatus
from trove.instance.models import save_instance_fault
from trove.instance.service_status import ServiceStatuses
from trove.instance.tasks import InstanceTasks
from trove.taskmanager import api as task_api
from trove.taskmanager import models as task_models

from trove_k2hdkc import faulttext
from trove_k2hdkc.backupset import tasks as setstasks
from trove_k2hdkc.cluster import claim
from trove_k2hdkc.cluster import orphans
from trove_k2hdkc.cluster import owner
from trove_k2hdkc.cluster import readiness
from trove_k2hdkc.cluster import registry as reg
from trove_k2hdkc.cluster import resume
from trove_k2hdkc.cluster import ringparams
from trove_k2hdkc.cluster import ringstate as rs
from trove_k2hdkc.cluster import shrinkplan
from trove_k2hdkc.cluster import tasks as k2tasks
from trove_k2hdkc.cluster.fleet import GuestFleet
from trove_k2hdkc.cluster.model import Member
from trove_k2hdkc.cluster.model import Timing
from trove_k2hdkc.cluster.procedures import DEAD_TEXT
from trove_k2hdkc.cluster.procedures import OUTAGE_END
from trove_k2hdkc.cluster.procedures import OUTAGE_START
from trove_k2hdkc.cluster.procedures import ProcedureError
from trove_k2hdkc.cluster.procedures import Procedures
from trove_k2hdkc.k2hr3.errors import K2hr3LeftBehindError
from trove_k2hdkc.k2hr3.settings import ClusterSettings

LOG = logging.getLogger(__name__)
CONF = cfg.CONF


class NotServing(str):
    """What a recovery returns when the ring could not be brought to
    serve: why, for the members' fault (they get the error status)."""


class K2hdkcTaskManagerStrategy(cluster_base.BaseTaskManagerStrategy):

    @property
    def task_manager_api_class(self) -> type:
        return K2hdkcTaskManagerAPI

    @property
    def task_manager_cluster_tasks_class(self) -> type:
        return K2hdkcClusterTasks

    @property
    def task_manager_manager_actions(self) -> dict[str, Callable]:
        return {'discard_members': _manager_discard_members,
                'backup_cluster': _manager_backup_cluster,
                'restore_cluster': _manager_restore_cluster,
                'delete_backup_set': _manager_delete_backup_set}


def _manager_discard_members(context: Any, cluster_id: str,
                             instance_ids: Sequence[str]) -> None:
    tasks = task_models.ClusterTasks.load(context, cluster_id,
                                          K2hdkcClusterTasks)
    tasks.discard_members(context, cluster_id, instance_ids)


def _manager_backup_cluster(context: Any, cluster_id: str,
                            backups: Sequence[dict]) -> None:
    tasks = task_models.ClusterTasks.load(context, cluster_id,
                                          K2hdkcClusterTasks)
    setstasks.backup_cluster(tasks, context, cluster_id, backups,
                             k2tasks.BACKING_UP)


def _manager_restore_cluster(context: Any, cluster_id: str,
                             backup_ids: Sequence[str]) -> None:
    tasks = task_models.ClusterTasks.load(context, cluster_id,
                                          K2hdkcClusterTasks)
    tasks.create_cluster(context, cluster_id, restore=list(backup_ids))


def _manager_delete_backup_set(context: Any, project_id: str,
                               backup_ids: Sequence[str]) -> None:
    setstasks.delete_set(context, project_id, backup_ids)


class K2hdkcTaskManagerAPI(task_api.API):
    """Extra actions cast ``k2hdkc_<action>`` (Manager.__getattr__ splits
    at the first '_' and finds the action in the strategy)."""

    def discard_members(self, cluster_id: str,
                        instance_ids: Sequence[str]) -> None:
        self._cast('k2hdkc_discard_members', self.API_BASE_VERSION,
                   cluster_id=cluster_id, instance_ids=list(instance_ids))

    def backup_cluster(self, cluster_id: str,
                       backups: Sequence[dict]) -> None:
        """A backup set (doc/backup.md §6): ``backups`` are the member
        backups' ``backup_info``."""
        self._cast('k2hdkc_backup_cluster', self.API_BASE_VERSION,
                   cluster_id=cluster_id, backups=list(backups))

    def restore_cluster(self, cluster_id: str,
                        backup_ids: Sequence[str]) -> None:
        """``create_cluster`` whose members load a set's backups, given
        in ring order, before they first start."""
        self._cast('k2hdkc_restore_cluster', self.API_BASE_VERSION,
                   cluster_id=cluster_id, backup_ids=list(backup_ids))

    def delete_backup_set(self, project_id: str,
                          backup_ids: Sequence[str]) -> None:
        self._cast('k2hdkc_delete_backup_set', self.API_BASE_VERSION,
                   project_id=project_id, backup_ids=list(backup_ids))


class K2hdkcClusterTasks(task_models.ClusterTasks):

    # Seams for tests: (conf, context, cluster_id) -> ClusterRegistry and
    # {instance id: guest} -> Fleet.
    registry_factory: Callable[..., reg.ClusterRegistry] = staticmethod(
        reg.registry_from_conf)
    fleet_factory: Callable[..., Any] = GuestFleet
    procedures_class: type[Procedures] = Procedures
    # cluster id -> the task the database holds now.
    current_task: Callable[[str], ClusterTask | None] = staticmethod(
        claim.current_task)
    # (request context, cluster id) -> a context of the cluster's project.
    owner_context_for: Callable[[Any, str], Any] = staticmethod(
        owner.context_for_cluster)
    # (context, instance id) -> readiness.READY, None, or why it never
    # will be.
    member_state: Callable[[Any, str], str | None] = staticmethod(
        readiness.trove_state)
    # (context, instance id) -> why its Nova server never serves, or None
    server_trouble: Callable[[Any, str], str | None] = staticmethod(
        readiness.server_trouble)

    # -- glue helpers ----------------------------------------------------

    def _cast_for(self, cluster_id: str, task: ClusterTask) -> bool:
        """The API claimed ``task`` before casting; if the cluster holds
        another task now (reset by an admin, or a stray message), running
        would collide with whoever holds it, so nothing is done."""
        start_recovery()
        running = self.current_task(cluster_id)
        if running is not None and running.code == task.code:
            return True
        LOG.error('Cluster %s: not running the operation cast for task '
                  '%s: the cluster task is now %s', cluster_id, task.name,
                  running.name if running else 'gone (deleted)')
        return False

    def _members(self, context: Any, ids: Sequence[str]
                 ) -> tuple[list[Member], dict[str, Any]]:
        members, guests = [], {}
        for instance_id in ids:
            instance = Instance.load(context, instance_id)
            members.append(Member(id=instance.id, ip=self.get_ip(instance)))
            guests[instance.id] = self.get_guest(instance)
        return members, guests

    def _procedures(self, cluster_id: str, guests: dict[str, Any],
                    ring: ClusterSettings | None = None
                    ) -> tuple[Procedures, Any]:
        """``ring``: the cluster's recorded parameters; only shrink's
        SERVICEOUT uses them (the control port), so create, restart and
        upgrade pass none and need no K2HR3 read."""
        opts = CONF.get('k2hdkc')
        fleet = self.fleet_factory(guests)

        operation = self.db_info.task_status

        def progress(text: str) -> None:
            LOG.info('Cluster %s: %s', cluster_id, text)

        def outage(started: bool) -> None:
            LOG.warning('Cluster %s: %s', cluster_id,
                        OUTAGE_START if started else OUTAGE_END)
            window = k2tasks.MERGE_WINDOW.get(operation.code)
            if window is not None:
                self.db_info.update(task_status=window if started
                                    else operation)
        timing = Timing(status_timeout=opts.cluster_status_timeout,
                        merge_timeout=opts.merge_timeout,
                        poll_interval=opts.cluster_poll_interval)
        procs = self.procedures_class(
            fleet, server_ctlport=(ring.server_ctlport if ring
                                   else opts.chmpx_server_ctlport),
            timing=timing, progress=progress, outage=outage)
        return procs, fleet

    def _ids(self, cluster_id: str) -> list[str]:
        return [db.id for db in DBInstance.find_all(
            cluster_id=cluster_id, deleted=False).all()]

    def _wait_ready(self, context: Any, ids: Sequence[str]) -> None:
        """Every member INSTANCE_READY; fails at once on one whose build
        or Nova server failed (``readiness``)."""
        readiness.wait(ids, lambda i: self.member_state(context, i),
                       timeout=CONF.get('k2hdkc').usage_timeout,
                       interval=CONF.usage_sleep_time)

    def _run(self, what: str, cluster_id: str, body: Callable[[], None],
             status: Any, recover: Callable[[], bool | str] | None = None
             ) -> bool:
        """Run ``body`` under the cluster timeout. On any failure
        ``recover`` runs and says how the cluster ended: True, back as it
        was; a text, brought to a serving state it describes (it set the
        members' statuses); False or a ``NotServing`` text (why), neither,
        and every member gets ``status``. Either way each member shows
        the failure as its fault and the task resets."""
        timeout = Timeout(CONF.cluster_usage_timeout)
        failure, ended = None, None
        code = self.db_info.task_status.code
        held = k2tasks.HELD.get(code, frozenset({code}))
        with orphans.heartbeat(cluster_id, held, CONF.get(
                'k2hdkc').task_heartbeat_interval):
            try:
                body()
            except Timeout as t:
                if t is not timeout:
                    raise
                failure = '%s timed out after %ss' % (
                    what, CONF.cluster_usage_timeout)
                LOG.error('Cluster %s: %s', cluster_id, failure)
            except Exception as exc:
                failure = '%s failed: %s' % (what, exc)
                LOG.exception('Cluster %s: %s', cluster_id, failure)
            finally:
                timeout.cancel()
            if failure is not None and recover is not None:
                ended = recover()
        if failure is not None:
            if ended is True:
                failure += '; undone, the cluster is as it was'
            elif isinstance(ended, NotServing):
                failure += '; the ring does not serve: %s' % ended
                self.update_statuses_on_failure(cluster_id, status=status)
            elif isinstance(ended, str):
                failure += '; ' + ended
            else:
                self.update_statuses_on_failure(cluster_id, status=status)
            self._record_fault(cluster_id, failure)
        else:
            self._clear_faults(cluster_id)
        self.reset_task()
        return failure is None

    def _recover_ring(self, cluster_id: str, procs: Procedures,
                      ids: Sequence[str], kind: str,
                      outside: Callable[[resume.Outcome], str | None]
                      | None = None) -> bool | str:
        """After a step failed with the ring changing: the rules of
        doc/ring-procedures.md §11 from the ring's state (a guest that
        came back, a process its supervisor restarted, a lost reply);
        ``NotServing`` when the ring cannot be brought to serve (a member
        gone), saying why. ``outside`` may deal with the members the
        ring ended without (it drops from ``outcome.outside`` those it
        deleted) and say what it did."""
        try:
            outcome = resume.resume(procs, ids, kind)
            self._complete_fresh(procs.fleet, outcome)
        except Exception as exc:
            LOG.error('Cluster %s: the ring could not be brought back to '
                      'serving: %s', cluster_id, exc)
            return NotServing(exc)
        outside_before = list(outcome.outside)
        dealt = outside(outcome) if outside and outcome.outside else None
        gone = set(outside_before) - set(outcome.outside)
        self._end_statuses([i for i in ids if i not in gone], outcome, kind)
        return 'then, from the ring\'s state: %s; %s%s' % (
            outcome.done, dealt + '; ' if dealt else '',
            outcome_text(kind, outcome))

    def _drop_unjoined(self, context: Any, cluster_id: str,
                       procs: Procedures, members: Sequence[Member],
                       registry: reg.ClusterRegistry,
                       new: Sequence[Member], outcome: resume.Outcome
                       ) -> str | None:
        """doc/ring-procedures.md §3: new members the ring ended without
        (they never joined, or were lost before they merged: chmpx takes
        a joining server that goes down out of the ring) hold no key. As
        before SERVICEIN, they are stopped if they answer, leave K2HR3
        and are deleted, and the members in the ring re-read an INI
        without them; None (and nothing changed for the user to
        redo) if that failed."""
        out = [m for m in new if m.id in outcome.outside]
        if not out:
            return None
        ids = [m.id for m in out]
        troubles = {m.id: self.server_trouble(context, m.id) for m in out}
        try:
            answering, _ = procs._statuses(ids)
            if answering:
                procs.best_effort('grow undo: stop new nodes',
                                  list(answering), 'stop_node')
            registry.remove_servers(out)
            procs.shrink_finish([m for m in members
                                 if m.id in outcome.serving], out,
                                purge=False)
            # The failed step may have left the merge-window task on
            # (a merge that never ended); Trove deletes a member only
            # while the grow's own task turns into SHRINKING_CLUSTER.
            procs.outage(False)
            self._delete_new_members(context, cluster_id, ids)
        except Exception as exc:
            LOG.error('Cluster %s: the new members %s that did not join '
                      'could not be removed: %s', cluster_id, ids, exc)
            return None
        outcome.outside = [i for i in outcome.outside if i not in ids]
        known = {i: t for i, t in troubles.items() if t}
        why = ''
        if len(out) == 1 and known:
            why = ' (%s)' % known[ids[0]]
        elif known:
            why = ' (%s)' % '; '.join('%s: %s' % kv
                                      for kv in sorted(known.items()))
        return ('the new member%s %s did not join the ring%s: removed '
                'from K2HR3 and deleted' % ('s' if len(out) > 1 else '',
                                            ', '.join(ids), why))

    def _drop_dead_new(self, context: Any, cluster_id: str,
                       procs: Procedures, existing: Sequence[Member],
                       registry: reg.ClusterRegistry,
                       new: Sequence[Member]) -> bool | str:
        """doc/ring-procedures.md §3: the grow's new members joined the
        ring and then their VMs were lost, so it can neither merge nor
        serve. They hold no key the old members lack (REPLICA copies), so
        they leave as dead members do (§4 "A dead leaver") and the old
        topology serves again. Only when every new member is dead and
        the old ones are healthy; False otherwise (nothing is done)."""
        try:
            # the grow's own restarts or purge may have left an old
            # member Pending
            plan = shrinkplan.plan(procs, existing, new, under_way=True)
            if plan.live or plan.out or len(plan.dead) != len(new):
                return False
            why = '; '.join('%s: %s' % (m.id, self.server_trouble(
                context, m.id) or 'down in every view') for m in plan.dead)
            procs.shrink_ring(existing, [], plan.dead)
            registry.remove_servers(plan.dead)
            procs.shrink_finish(existing, plan.dead)
            self._delete_new_members(context, cluster_id,
                                     [m.id for m in plan.dead])
        except Exception as exc:
            LOG.error('Cluster %s: the dead new members %s could not be '
                      'taken out of the ring: %s', cluster_id,
                      [m.id for m in new], exc)
            return False
        return ('then the new member%s %s joined the ring but went down '
                '(%s): taken out of the ring as dead members, removed from '
                'K2HR3 and deleted; the cluster is serving with its %d '
                'members from before the grow'
                % ('s' if len(new) > 1 else '',
                   ', '.join(m.id for m in new), why, len(existing)))

    def _grow_without_lost(self, context: Any, cluster_id: str,
                           procs: Procedures, existing: Sequence[Member],
                           new: Sequence[Member], ring: ClusterSettings
                           ) -> str | None:
        """doc/ring-procedures.md §3: an existing member was lost during
        the grow (its VM gone), so chmpx refuses the grow's MERGE. With
        no more members lost than REPLICA every key keeps a live copy:
        the lost member is taken out of the ring as a dead leaver
        (SERVICEOUT through a live member, §4) and the rules of §11
        finish the grow among the live members; the lost member stays
        listed (GROWING_ERROR) for the user to shrink. None (nothing
        done) otherwise, or ``NotServing`` saying why when more members
        are lost than REPLICA."""
        lost = procs.lost(new, existing)
        alive = [m for m in existing if m not in lost]
        if not lost or not alive:
            return None
        names = ', '.join(m.id for m in lost)
        if len(lost) > ring.replica:
            why = ('%s are lost, more than REPLICA = %d: a key may have had '
                   'every copy on them, so the ring is left as it is'
                   % (names, ring.replica))
            LOG.error('Cluster %s: %s', cluster_id, why)
            return NotServing(why)
        ids = [m.id for m in list(existing) + list(new)]
        try:
            why = '; '.join('%s: %s' % (m.id, self.server_trouble(
                context, m.id) or 'down in every view') for m in lost)
            views, _ = procs._statuses([m.id for m in alive])
            for m in lost:
                if not all(rs.action(c) == rs.ACTION_DELETE
                           for c in rs.seen_as(views, m.id, m.ip)):
                    procs._service_out_dead('grow', alive, m)
            outcome = resume.resume(procs, ids, resume.GROW)
            self._complete_fresh(procs.fleet, outcome)
        except Exception as exc:
            LOG.error('Cluster %s: the grow could not be finished without '
                      '%s: %s', cluster_id, names, exc)
            return None
        self._end_statuses(ids, outcome, resume.GROW)
        outcome.outside = [i for i in outcome.outside
                           if i not in {m.id for m in lost}]
        return ('then %s, an existing member, was lost too (%s): taken out '
                'of the ring as a dead member, and the grow went on from the '
                'ring\'s state: %s; %s is still listed: remove it with '
                'openstack database cluster shrink; %s'
                % (names, why, outcome.done, names,
                   outcome_text(resume.GROW, outcome)))

    def _complete_fresh(self, fleet: Any, outcome: resume.Outcome) -> None:
        """``cluster_complete`` for new members that joined."""
        fresh = [i for i in outcome.serving if self.awaiting_complete(i)]
        if fresh:
            fleet.call_all(fresh, 'cluster_complete')

    def _end_statuses(self, ids: Sequence[str], outcome: resume.Outcome,
                      kind: str) -> None:
        for i in ids:
            self._update_member(i, task_status=(
                InstanceTasks.NONE if i in outcome.serving
                else _ERROR_OF.get(kind, InstanceTasks.NONE)))

    def _record_fault(self, cluster_id: str, message: str) -> None:
        """The instance fault is the one place ``openstack database
        instance show`` tells a user why a cluster operation failed; a
        long text keeps its start and its end (``faulttext``)."""
        for instance_id in self._ids(cluster_id):
            try:
                save_instance_fault(instance_id, faulttext.message(message),
                                    faulttext.details(message))
            except Exception:
                LOG.exception('Cluster %s: could not save the fault of '
                              'member %s', cluster_id, instance_id)

    def _clear_faults(self, cluster_id: str) -> None:
        """An operation that succeeded supersedes an earlier failure:
        its fault would only mislead."""
        for instance_id in self._ids(cluster_id):
            try:
                clear_instance_fault(instance_id)
            except Exception:
                LOG.exception('Cluster %s: could not clear the fault of '
                              'member %s', cluster_id, instance_id)

    def _update_member(self, instance_id: str, **values: Any) -> None:
        db = DBInstance.find_by(id=instance_id, deleted=False)
        for key, value in values.items():
            setattr(db, key, value)
        db.save()

    @staticmethod
    def _require_recorded_ring(fleet: Any, members: Sequence[Member],
                               ring: ClusterSettings) -> None:
        """The recorded parameters (which the project's user can edit in
        K2HR3) must describe the running ring; otherwise stop before the
        ring is touched rather than reconfigure it
        (doc/k2hr3-layout.md §1)."""
        replies = fleet.call_all([m.id for m in members], 'node_status')
        wrong = ringparams.ring_mismatches(replies, ring)
        if wrong:
            raise ProcedureError(
                'check recorded ring parameters',
                'K2HR3 records port/ctlport %d/%d but %s; the ring was not '
                'changed' % (ring.server_port, ring.server_ctlport,
                             ', '.join(wrong)))

    def _whole(self, context: Any, cluster_id: str
               ) -> tuple[list[Member], Procedures]:
        """Every member and the procedures over their guests."""
        members, guests = self._members(context, self._ids(cluster_id))
        procs, _ = self._procedures(cluster_id, guests)
        return members, procs

    # -- Trove entry points ---------------------------------------------

    def create_cluster(self, context: Any, cluster_id: str,
                       restore: Sequence[str] | None = None) -> None:
        """``restore``: backup ids of a set in ring order; each member
        loads the one at its own ring position before its first start."""
        # A create a restarted taskmanager ended (``end_create``) is not
        # run late from a cast still queued.
        if not self._cast_for(cluster_id, ClusterTasks.BUILDING_INITIAL):
            return
        LOG.info('Cluster %s: create begins%s', cluster_id,
                 ' (restoring a backup set)' if restore else '')
        ids = self._ids(cluster_id)
        state: dict[str, reg.ClusterRegistry] = {}

        def body() -> None:
            state['registry'] = self.registry_factory(CONF, context,
                                                      cluster_id)
            access = state['registry'].provision()
            self._wait_ready(context, ids)
            members, guests = self._members(context, ids)
            state['registry'].add_servers(members)
            procs, fleet = self._procedures(cluster_id, guests)
            plan = (setstasks.restore_plan(context, ids, restore)
                    if restore else None)
            procs.bootstrap(members, access, restore=plan)
            fleet.call_all(ids, 'cluster_complete')

        def cleanup() -> bool:
            if 'registry' in state:
                self._teardown(cluster_id, state['registry'])
            return False

        if self._run('create', cluster_id, body,
                     InstanceTasks.BUILDING_ERROR_SERVER, cleanup):
            LOG.info('Cluster %s: created', cluster_id)

    def grow_cluster(self, context: Any, cluster_id: str,
                     new_instance_ids: Sequence[str]) -> None:
        """Until the first SERVICEIN the ring's membership is unchanged
        and a failure is undone: the new members leave K2HR3, are stopped
        and deleted, the old ones re-read their INI. After that the
        ring's state decides (``_recover_ring``), new members that ended
        outside the ring are removed the same way (``_drop_unjoined``),
        and only a ring that cannot serve leaves the members in
        GROWING_ERROR."""
        if not self._cast_for(cluster_id, ClusterTasks.GROWING_CLUSTER):
            return
        LOG.info('Cluster %s: grow by %s begins', cluster_id,
                 list(new_instance_ids))
        new_ids = list(new_instance_ids)
        state: dict[str, Any] = {'ring_touched': False}

        def body() -> None:
            old_ids = [i for i in self._ids(cluster_id) if i not in new_ids]
            if not old_ids:
                raise ProcedureError('grow', 'the cluster has no existing '
                                     'member')
            self._wait_ready(context, new_ids)
            existing, guests = self._members(context, old_ids)
            new, new_guests = self._members(context, new_ids)
            guests.update(new_guests)
            registry = self.registry_factory(CONF, context, cluster_id)
            ring = registry.ring_settings()
            procs, fleet = self._procedures(cluster_id, guests, ring)
            procs.require_healthy(existing)
            state['checked'] = True
            self._require_recorded_ring(fleet, existing, ring)
            # The recorded parameters again, never the configuration's.
            access = registry.provision(ring)
            state['added'] = (registry, new)
            registry.add_servers(new)
            state['procs'] = (procs, existing)
            state['ring'] = ring
            procs.grow(existing, new, access,
                       joining=lambda: state.update(ring_touched=True))
            fleet.call_all(new_ids, 'cluster_complete')

        def recover() -> bool | str:
            if state['ring_touched']:
                procs, existing = state['procs']
                registry, new = state['added']
                ended = self._recover_ring(
                    cluster_id, procs, [m.id for m in existing] + new_ids,
                    resume.GROW, lambda outcome: self._drop_unjoined(
                        context, cluster_id, procs, list(existing) + new,
                        registry, new, outcome))
                if isinstance(ended, NotServing):
                    dropped = self._drop_dead_new(
                        context, cluster_id, procs, existing,
                        *state['added'])
                    if dropped is not False:
                        return dropped
                    finished = self._grow_without_lost(
                        context, cluster_id, procs, existing, new,
                        state['ring'])
                    if isinstance(finished, NotServing):
                        return NotServing('%s; %s' % (ended, finished))
                    return ended if finished is None else finished
                return ended
            # doc/ring-procedures.md §3: before SERVICEIN the new nodes
            # run outside the ring; stop them, drop them, and the old
            # members re-read an INI without them.
            procs, existing = state.get('procs', (None, []))
            new_members = state.get('added', (None, []))[1]
            if procs is not None:
                procs.best_effort('grow undo: stop new nodes', new_ids,
                                  'stop_node')
            undone = self._undo_grow(context, cluster_id, new_ids,
                                     *state.get('added', (None, [])))
            if procs is not None:
                procs.best_effort('grow undo: refresh config',
                                  [m.id for m in existing], 'refresh_config')
                # down before the grow, the failure says so already
                lost = (procs.lost(new_members, existing)
                        if state.get('checked') else [])
                if undone and lost:
                    # "as it was", but with a member down: say how it goes
                    return ('undone, the cluster is as it was but for %s, '
                            'lost during the grow: %s' % (
                                ', '.join(m.id for m in lost), DEAD_TEXT))
            return undone

        if self._run('grow', cluster_id, body, InstanceTasks.GROWING_ERROR,
                     recover):
            LOG.info('Cluster %s: grown', cluster_id)

    def shrink_cluster(self, context: Any, cluster_id: str,
                       instance_ids: Sequence[str]) -> None:
        if not self._cast_for(cluster_id, ClusterTasks.SHRINKING_CLUSTER):
            return
        LOG.info('Cluster %s: shrink by %s begins', cluster_id,
                 list(instance_ids))

        state: dict[str, Any] = {'ring_touched': False, 'removed': False}

        def body() -> None:
            leave_ids = list(instance_ids)
            stay_ids = [i for i in self._ids(cluster_id)
                        if i not in leave_ids]
            remaining, guests = self._members(context, stay_ids)
            leaving, leave_guests = self._members(context, leave_ids)
            guests.update(leave_guests)
            registry = self.registry_factory(CONF, context, cluster_id)
            ring = registry.ring_settings()
            refusal = ringparams.shrink_refusal(len(leave_ids), ring)
            if refusal:
                raise ProcedureError('shrink', refusal)
            procs, fleet = self._procedures(cluster_id, guests, ring)
            # doc/ring-procedures.md §4, §11: leavers may be dead
            # or already out (an interrupted or failed shrink), which
            # need only part of the ring steps or none.
            plan = shrinkplan.plan(procs, remaining, leaving)
            self._require_recorded_ring(fleet, remaining + plan.live, ring)
            state['ring_touched'] = True
            state['procs'] = (procs, stay_ids + leave_ids)
            state['shrink'] = (remaining, leaving, registry, ring)
            if plan.touches_ring:
                procs.shrink_ring(remaining, plan.live, plan.dead)
            if plan.up:
                # One that does not answer is deleted anyway.
                procs.best_effort('shrink: stop the leavers',
                                  [m.id for m in plan.up], 'stop_node')
            registry.remove_servers(leaving)
            state['removed'] = True
            procs.shrink_finish(remaining, leaving,
                                purge=plan.touches_ring)
            self._delete_instances(context, cluster_id, leave_ids)

        def recover() -> bool | str:
            # Before the first SERVICEOUT nothing was changed.
            if not state['ring_touched']:
                return True
            procs, ids = state['procs']
            ended = self._recover_ring(cluster_id, procs, ids, resume.SHRINK)
            if isinstance(ended, NotServing):
                remaining, leaving, registry, ring = state['shrink']
                finished = self._shrink_without_lost(
                    context, cluster_id, procs, remaining, leaving,
                    registry, ring, state['removed'])
                if isinstance(finished, NotServing):
                    return NotServing('%s; %s' % (ended, finished))
                return ended if finished is None else finished
            return ended

        if self._run('shrink', cluster_id, body,
                     InstanceTasks.SHRINKING_ERROR, recover):
            LOG.info('Cluster %s: shrunk', cluster_id)

    def _shrink_without_lost(self, context: Any, cluster_id: str,
                             procs: Procedures,
                             remaining: Sequence[Member],
                             leaving: Sequence[Member],
                             registry: reg.ClusterRegistry,
                             ring: ClusterSettings, removed: bool
                             ) -> str | None:
        """doc/ring-procedures.md §4 "A member lost during a shrink": a
        member that stays was lost (its VM gone), so chmpx refuses the
        MERGE of the shrink and the ring serves in neither topology.
        With no more members down than REPLICA (every key keeps a live
        copy, a live leaver's as a source of the merge) the lost member
        is taken out of the ring as a dead member along with the
        leavers; the shrink then ends as asked, and the lost member
        stays listed (SHRINKING_ERROR) for the user to shrink and
        replace; ``removed``: K2HR3 dropped the leavers already. None
        (nothing done) otherwise, or ``NotServing`` saying why when more
        members are lost than REPLICA."""
        lost = procs.lost(leaving, remaining)
        alive = [m for m in remaining if m not in lost]
        if not lost or not alive:
            return None
        names = ', '.join(m.id for m in lost)
        try:
            # the lost members leave too; the leavers may be live, dead
            # or out of the ring already (past COMPMERGE)
            plan = shrinkplan.plan(procs, alive, list(leaving) + lost,
                                   under_way=True)
            if len(plan.dead) > ring.replica:
                why = ('%s are lost, more than REPLICA = %d: a key may have '
                       'had every copy on them, so the ring is left as it '
                       'is' % (', '.join(m.id for m in plan.dead),
                               ring.replica))
                LOG.error('Cluster %s: %s', cluster_id, why)
                return NotServing(why)
            why = '; '.join('%s: %s' % (m.id, self.server_trouble(
                context, m.id) or 'down in every view') for m in lost)
            if plan.touches_ring:
                procs.shrink_ring(alive, plan.live, plan.dead)
            if plan.up:
                procs.best_effort('shrink: stop the leavers',
                                  [m.id for m in plan.up], 'stop_node')
            if not removed:
                registry.remove_servers(leaving)
            procs.shrink_finish(alive, leaving)
            self._delete_instances(context, cluster_id,
                                   [m.id for m in leaving])
        except Exception as exc:
            LOG.error('Cluster %s: the shrink could not be finished '
                      'without %s: %s', cluster_id, names, exc)
            return None
        for m in alive:
            self._update_member(m.id, task_status=InstanceTasks.NONE)
        for m in lost:
            self._update_member(m.id,
                                task_status=InstanceTasks.SHRINKING_ERROR)
        return ('then %s, which stays, was lost too (%s): taken out of the '
                'ring as a dead member, and the shrink of %s finished; the '
                'cluster is serving with %d members in the ring (%s); %s is '
                'still listed: remove it with openstack database cluster '
                'shrink, then grow to replace it'
                % (names, why, ', '.join(m.id for m in leaving), len(alive),
                   ', '.join(m.id for m in alive), names))

    def discard_members(self, context: Any, cluster_id: str,
                        instance_ids: Sequence[str]) -> None:
        """Grow's API created these members, then failed to create the
        rest; none joined the ring or K2HR3. Once their builds end they
        are deleted."""
        if not self._cast_for(cluster_id, ClusterTasks.GROWING_CLUSTER):
            return
        ids = list(instance_ids)
        try:
            # Ready or failed: either way the build is over.
            self._all_instances_ready(ids, cluster_id)
            self._delete_new_members(context, cluster_id, ids)
            LOG.info('Cluster %s: deleted %s, the members of a failed grow',
                     cluster_id, ids)
        except Exception:
            LOG.exception('Cluster %s: could not delete %s, the members of '
                          'a failed grow; shrink them away', cluster_id, ids)
        finally:
            self.reset_task()

    def delete_cluster(self, context: Any, cluster_id: str) -> None:
        """K2HR3 first, in the cluster's own project whoever asked
        (``owner``), then Trove's wait for the instances (the API deletes
        them). The cluster is marked deleted only when K2HR3 holds none of
        its objects; otherwise it ends in ``DELETE_FAILED`` and a new
        delete runs the teardown again (doc/k2hr3-layout.md §4)."""
        try:
            registry = self.registry_factory(
                CONF, self.owner_context_for(context, cluster_id),
                cluster_id)
            registry.teardown()
        except (owner.OwnerAuthError, reg.RegistryError) as exc:
            _log_teardown_failure(cluster_id, exc)
            self._delete_failed(cluster_id)
            return
        super().delete_cluster(context, cluster_id)

    def _delete_failed(self, cluster_id: str) -> None:
        """Wait as Trove does for the instances, then leave the cluster
        in ``DELETE_FAILED`` instead of marking it deleted."""
        try:
            utils.poll_until(lambda: not self._ids(cluster_id),
                             sleep_time=2,
                             time_out=CONF.cluster_delete_time_out)
        except trove_exc.PollTimeOut:
            LOG.error('Cluster %s: its instances were not deleted within '
                      '%ss', cluster_id, CONF.cluster_delete_time_out)
        claim.switch(cluster_id, ClusterTasks.DELETING,
                     k2tasks.DELETE_FAILED)

    def restart_cluster(self, context: Any, cluster_id: str) -> None:
        """One member at a time, each back in a healthy ring before the
        next (Trove's ``rolling_restart_cluster`` does not wait)."""
        if not self._cast_for(cluster_id, ClusterTasks.RESTARTING_CLUSTER):
            return
        LOG.info('Cluster %s: rolling restart begins', cluster_id)

        def body() -> None:
            members, procs = self._whole(context, cluster_id)
            procs.rolling_restart(
                members,
                begin=lambda m: self._update_member(
                    m.id, task_status=InstanceTasks.REBOOTING),
                end=self._task_done)

        # Trove has no restart error task: members return to NONE and
        # show what their guests report, plus the fault.
        if self._run('restart', cluster_id, body, InstanceTasks.NONE):
            LOG.info('Cluster %s: restarted', cluster_id)

    def upgrade_cluster(self, context: Any, cluster_id: str,
                        datastore_version: Any) -> None:
        """Rolling, like ``restart_cluster``; each member as Trove's
        ``BuiltInstanceTasks.upgrade`` does it."""
        if not self._cast_for(cluster_id, ClusterTasks.UPGRADING_CLUSTER):
            return
        LOG.info('Cluster %s: rolling upgrade to %s begins', cluster_id,
                 datastore_version.version)

        def begin(m: Member) -> None:
            self._update_member(m.id,
                                datastore_version_id=datastore_version.id,
                                task_status=InstanceTasks.UPGRADING)

        def body() -> None:
            members, procs = self._whole(context, cluster_id)
            procs.rolling_upgrade(members, datastore_version.version,
                                  begin=begin, end=self._task_done)

        if self._run('upgrade', cluster_id, body,
                     InstanceTasks.UPGRADING_ERROR):
            LOG.info('Cluster %s: upgraded', cluster_id)

    def resume_interrupted(self, context: Any, cluster_id: str,
                           code: int) -> None:
        """The task ``code`` lost its taskmanager and this one took it
        over (``orphans``): finish what the ring shows, record how the
        cluster ended, end the task (doc/ring-procedures.md §11)."""
        held = k2tasks.RESUMABLE[code]
        if held is k2tasks.RESUMING_CREATE:
            self.end_create(context, cluster_id, held)
            return
        if held is k2tasks.RESUMING_BACKUP:
            self.end_backup_set(cluster_id, held)
            return
        kind = _RESUME_KIND.get(held.code, resume.ROLL)
        ids = self._ids(cluster_id)
        guests = {i: self.guest_factory(context, i) for i in ids}
        procs, fleet = self._procedures(cluster_id, guests)
        timeout = Timeout(CONF.cluster_usage_timeout)
        try:
            with orphans.heartbeat(cluster_id, frozenset({held.code}),
                                   CONF.get('k2hdkc').task_heartbeat_interval):
                outcome = resume.resume(procs, ids, kind)
                self._complete_fresh(fleet, outcome)
        except (Exception, Timeout) as exc:
            if isinstance(exc, Timeout) and exc is not timeout:
                raise
            message = ('%s interrupted by a taskmanager restart; resuming it '
                       'failed: %s' % (kind, exc))
            LOG.error('Cluster %s: %s', cluster_id, message)
            self.update_statuses_on_failure(
                cluster_id, status=_ERROR_OF.get(kind, InstanceTasks.NONE))
            self._record_fault(cluster_id, message)
        else:
            message = resume_message(kind, outcome)
            LOG.warning('Cluster %s: %s', cluster_id, message)
            self._end_statuses(ids, outcome, kind)
            self._record_fault(cluster_id, message)
        finally:
            timeout.cancel()
            claim.switch(cluster_id, held, ClusterTasks.NONE)

    def end_backup_set(self, cluster_id: str, held: ClusterTask) -> None:
        """A backup set whose taskmanager died (doc/backup.md §6): its
        member backups end (``backupset.tasks.end_interrupted``), then
        the cluster task is given back; the ring was never touched."""
        try:
            states = setstasks.end_interrupted(cluster_id, held)
            LOG.warning('Cluster %s: backup set interrupted by a '
                        'taskmanager restart; its member backups ended: '
                        '%s', cluster_id, ', '.join(
                            '%s %s' % kv for kv in sorted(states.items()))
                        or 'none was running')
        except Exception:
            LOG.exception('Cluster %s: ending the interrupted backup set '
                          'failed', cluster_id)
        finally:
            claim.switch(cluster_id, held, ClusterTasks.NONE)

    def end_create(self, context: Any, cluster_id: str,
                   held: ClusterTask) -> None:
        """A create whose taskmanager died is failed, as a create that
        failed is (doc/ring-procedures.md §11): the new ring holds no
        acknowledged key, and nothing of the dead process says how far
        its bootstrap got or whether a member's build still runs, so it
        is not resumed. Its K2HR3 objects go (in the cluster's own
        project: the request's token died with the request), the members
        get BUILDING_ERROR_SERVER and a fault saying what to do, and the
        task ends."""
        what = 'its K2HR3 objects were removed'
        try:
            self.registry_factory(
                CONF, self.owner_context_for(context, cluster_id),
                cluster_id).teardown()
        except Exception as exc:
            _log_teardown_failure(cluster_id, exc)
            what = ('removing its K2HR3 objects failed (%s); deleting the '
                    'cluster removes them' % type(exc).__name__)
        message = ('create interrupted by a taskmanager restart: the '
                   'cluster was not finished and is not resumed; %s; '
                   'delete the cluster and create it again' % what)
        LOG.warning('Cluster %s: %s', cluster_id, message)
        try:
            self.update_statuses_on_failure(
                cluster_id, status=InstanceTasks.BUILDING_ERROR_SERVER)
            self._record_fault(cluster_id, message)
        finally:
            claim.switch(cluster_id, held, ClusterTasks.NONE)

    @staticmethod
    def guest_factory(context: Any, instance_id: str) -> Any:
        """A guest client by instance id alone: a resume has no user
        request and needs no Nova lookup."""
        return clients.create_guest_client(context, instance_id, 'k2hdkc')

    @staticmethod
    def awaiting_complete(instance_id: str) -> bool:
        """A grow's new member that never got ``cluster_complete``
        (Trove leaves it at INSTANCE_READY until then)."""
        try:
            status = InstanceServiceStatus.find_by(instance_id=instance_id)
        except trove_exc.ModelNotFoundError:
            return False
        return status.status == ServiceStatuses.INSTANCE_READY

    # -- pieces ----------------------------------------------------------

    def _task_done(self, member: Member) -> None:
        self._update_member(member.id, task_status=InstanceTasks.NONE)

    def _undo_grow(self, context: Any, cluster_id: str,
                   new_ids: Sequence[str],
                   registry: reg.ClusterRegistry | None,
                   new: Sequence[Member]) -> bool:
        """The new members leave K2HR3 (best effort: no node has read the
        longer list yet) and their instances are deleted."""
        LOG.warning('Cluster %s: the ring was not touched; undoing the '
                    'grow by deleting %s', cluster_id, list(new_ids))
        if registry is not None:
            try:
                registry.remove_servers(new)
            except Exception as exc:
                LOG.error('Cluster %s: K2HR3 still lists %s; remove them '
                          'by hand: %s', cluster_id, list(new_ids), exc)
        try:
            self._delete_new_members(context, cluster_id, new_ids)
        except Exception:
            LOG.exception('Cluster %s: could not delete the new members '
                          '%s', cluster_id, list(new_ids))
            return False
        return True

    def _delete_new_members(self, context: Any, cluster_id: str,
                            ids: Sequence[str]) -> None:
        """Trove deletes cluster members only while the cluster task is
        SHRINKING_CLUSTER or DELETING (``is_cluster_deleting``), so the
        grow's task moves on to SHRINKING first; and it refuses to
        delete an instance whose task is still BUILDING (a grow's member
        keeps it until ``cluster_complete``), so that ends first. One
        that never became ready ends in error: with its Nova server still
        BUILD, Trove would refuse to delete it ("not ready")."""
        claim.switch(cluster_id, ClusterTasks.GROWING_CLUSTER,
                     ClusterTasks.SHRINKING_CLUSTER)
        for instance_id in ids:
            ready = self.member_state(context, instance_id)
            self._update_member(instance_id, task_status=(
                InstanceTasks.NONE if ready == readiness.READY
                else InstanceTasks.BUILDING_ERROR_SERVER))
        self._delete_instances(context, cluster_id, ids)

    def _teardown(self, cluster_id: str,
                  registry: reg.ClusterRegistry) -> None:
        try:
            registry.teardown()
        except reg.RegistryError as exc:
            _log_teardown_failure(cluster_id, exc)

    def _delete_instances(self, context: Any, cluster_id: str,
                          ids: Sequence[str]) -> None:
        for instance_id in ids:
            Instance.load(context, instance_id).delete()

        def gone() -> bool:
            return not set(ids) & set(self._ids(cluster_id))
        try:
            utils.poll_until(gone, sleep_time=2,
                             time_out=CONF.cluster_delete_time_out)
        except trove_exc.PollTimeOut as exc:
            raise ProcedureError('delete leaving instances', 'not deleted '
                                 'after %ss' % CONF.cluster_delete_time_out
                                 ) from exc


_RESUME_KIND = {k2tasks.RESUMING_GROW.code: resume.GROW,
                k2tasks.RESUMING_SHRINK.code: resume.SHRINK}
_ERROR_OF = {resume.GROW: InstanceTasks.GROWING_ERROR,
             resume.SHRINK: InstanceTasks.SHRINKING_ERROR}


def resume_message(kind: str, outcome: resume.Outcome) -> str:
    """What a member's fault says after a resume: where it had got,
    what was done, which topology serves, what the user must do."""
    return ('%s interrupted by a taskmanager restart at %s; resumed: %s; %s'
            % (kind, outcome.step, outcome.done,
               outcome_text(kind, outcome)))


def outcome_text(kind: str, outcome: resume.Outcome) -> str:
    """Which members serve, and what to do about the others."""
    text = ('the cluster is serving with %d members in the ring (%s)'
            % (len(outcome.serving), ', '.join(outcome.serving)))
    if outcome.outside and kind == resume.GROW:
        text += ('; %s did not join the ring: remove them with openstack '
                 'database cluster shrink' % ', '.join(outcome.outside))
    elif outcome.outside and kind == resume.SHRINK:
        text += ('; %s left the ring and stopped, but K2HR3 and Trove still '
                 'list them: run the shrink of them again'
                 % ', '.join(outcome.outside))
    elif outcome.outside:
        text += '; %s are not in the ring' % ', '.join(outcome.outside)
    return text


def start_recovery() -> bool:
    """Once per taskmanager process: resume or end the K2HDKC cluster
    tasks whose taskmanager died (``orphans``)."""
    return orphans.start_once(_resume_cluster, _is_k2hdkc)


def _admin_context() -> Any:
    return TroveContext(is_admin=True)


def _is_k2hdkc(cluster_id: str) -> bool:
    try:
        return Cluster.manager_from_cluster_id(
            _admin_context(), cluster_id) == 'k2hdkc'
    except Exception:
        return False


def _resume_cluster(cluster_id: str, code: int) -> None:
    context = _admin_context()
    tasks = task_models.ClusterTasks.load(context, cluster_id,
                                          K2hdkcClusterTasks)
    tasks.resume_interrupted(context, cluster_id, code)


def clear_instance_fault(instance_id: str) -> None:
    """Mark the member's fault deleted, as Trove does when it deletes an
    instance (``Instance.set_instance_fault_deleted``)."""
    try:
        fault = DBInstanceFault.find_by(instance_id=instance_id,
                                        deleted=False)
    except trove_exc.ModelNotFoundError:
        return
    fault.deleted = True
    fault.deleted_at = timeutils.utcnow()
    fault.save()


def _log_teardown_failure(cluster_id: str, exc: Exception) -> None:
    """"Left behind" only for objects the teardown saw still in K2HR3
    after deleting (``K2hr3LeftBehindError``); any other failure means
    nobody could look, which is said as such (doc/k2hr3-layout.md §4)."""
    cause = exc.__cause__
    if isinstance(cause, K2hr3LeftBehindError):
        LOG.error('Cluster %s: K2HR3 objects are left behind: %s; delete '
                  'the cluster again, or list and remove them with '
                  'trove-k2hdkc-orphans', cluster_id,
                  ', '.join(cause.objects))
    else:
        LOG.error('Cluster %s: the K2HR3 teardown did not finish, so what '
                  'remains of k2hdkc-%s is unknown; delete the cluster '
                  'again, or list and remove them with trove-k2hdkc-orphans: '
                  '%s', cluster_id, cluster_id, exc)
