"""Cluster tasks whose taskmanager died: heartbeat, detection, take-over.

A cluster operation runs inside one taskmanager process; if that process
dies, the cluster task (GROWING_CLUSTER...) stays in the database for
ever and the API refuses every later operation. Trove 26 has no record
of which process owns a task, so the owner proves it is alive: while an
operation runs it writes the cluster row's ``updated`` time every
``[k2hdkc] task_heartbeat_interval`` seconds (``heartbeat``). A task
whose ``updated`` is older than ``task_orphan_after`` has no live owner.

At startup a taskmanager (``start_once``) looks for such tasks and takes
each over with one conditional UPDATE on the ``updated`` value it read,
so two taskmanagers starting together never both take one, and a live
owner's next heartbeat makes the take-over miss. The task moves to a
``RESUMING`` code (same name, ``tasks.RESUMING``) so that a cast of the
old operation still queued in RabbitMQ is refused by ``_cast_for``.
What is done then is doc/ring-procedures.md §11.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
import contextlib
import datetime
import threading
from typing import Any

import eventlet
from oslo_log import log as logging
from trove.cluster.models import DBCluster
from trove.common import cfg
from trove.common import timeutils

from trove_k2hdkc.cluster import tasks as k2tasks

LOG = logging.getLogger(__name__)
CONF = cfg.CONF

_started = threading.Lock()
_done = False


def beat(cluster_id: str, codes: frozenset[int]) -> bool:
    """Write ``updated`` if the cluster still holds one of ``codes``;
    False when it does not (the task ended or was taken away)."""
    with DBCluster.query() as query:
        return query.filter(
            DBCluster.id == cluster_id,
            DBCluster.deleted == False,  # noqa: E712 (SQL, not Python)
            DBCluster.task_id.in_(list(codes)),
        ).update({'updated': timeutils.utcnow()},
                 synchronize_session=False) == 1


@contextlib.contextmanager
def heartbeat(cluster_id: str, codes: frozenset[int],
              interval: float) -> Iterator[None]:
    """Beat every ``interval`` seconds while the block runs (a
    greenthread: the taskmanager runs under eventlet)."""
    def run() -> None:
        while True:
            eventlet.sleep(interval)
            try:
                beat(cluster_id, codes)
            except Exception:
                LOG.exception('Cluster %s: heartbeat not written',
                              cluster_id)
    thread = eventlet.spawn(run)
    try:
        yield
    finally:
        thread.kill()


def candidates() -> list[tuple[str, int, Any]]:
    """(cluster id, task code, updated) of every cluster whose task is
    one ``tasks.RESUMABLE`` knows."""
    with DBCluster.query() as query:
        rows = query.filter(
            DBCluster.deleted == False,  # noqa: E712
            DBCluster.task_id.in_(list(k2tasks.RESUMABLE)),
        ).all()
        return [(r.id, r.task_id, r.updated) for r in rows]


def stale(updated: Any, now: datetime.datetime, orphan_after: float
          ) -> bool:
    return updated is None or (now - updated).total_seconds() >= orphan_after


def take_over(cluster_id: str, code: int, updated: Any) -> bool:
    """Move the task to its RESUMING code if nobody wrote the row since
    it was read with ``updated``: one statement, so exactly one caller
    wins."""
    resuming = k2tasks.RESUMABLE[code]
    with DBCluster.query() as query:
        return query.filter(
            DBCluster.id == cluster_id,
            DBCluster.deleted == False,  # noqa: E712
            DBCluster.task_id == code,
            DBCluster.updated == updated,
        ).update({'task_id': resuming.code, 'updated': timeutils.utcnow()},
                 synchronize_session=False) == 1


def recover(resume: Callable[[str, int], None], *,
            is_k2hdkc: Callable[[str], bool],
            sleep: Callable[[float], None] = eventlet.sleep,
            now: Callable[[], datetime.datetime] = timeutils.utcnow
            ) -> list[str]:
    """Take over and ``resume(cluster_id, original task code)`` every
    K2HDKC cluster whose task was running when this process started and
    whose heartbeat stops. Tasks seen fresh are looked at again until
    their heartbeat is ``task_orphan_after`` old or they end. Returns
    the ids taken over."""
    opts = CONF.get('k2hdkc')
    orphan_after = opts.task_orphan_after
    watched = {cid: (code, updated) for cid, code, updated in candidates()
               if is_k2hdkc(cid)}
    taken = []
    while watched:
        current = {cid: (code, updated)
                   for cid, code, updated in candidates()}
        for cid in list(watched):
            if current.get(cid) != watched[cid]:
                # ended, moved on (its owner is alive) or taken by another
                # taskmanager starting at the same time
                del watched[cid]
                continue
            code, updated = watched[cid]
            if not stale(updated, now(), orphan_after):
                continue
            del watched[cid]
            if not take_over(cid, code, updated):
                continue
            taken.append(cid)
            LOG.warning('Cluster %s: task %s has had no heartbeat for %ss '
                        '(its taskmanager stopped); resuming it', cid,
                        k2tasks.RESUMABLE[code].name, orphan_after)
            try:
                resume(cid, code)
            except Exception:
                LOG.exception('Cluster %s: resuming the interrupted task '
                              'failed', cid)
        if watched:
            sleep(max(1.0, min(opts.task_heartbeat_interval,
                               orphan_after / 4)))
    return taken


def start_once(resume: Callable[[str, int], None],
               is_k2hdkc: Callable[[str], bool]) -> bool:
    """Run ``recover`` once per process, in a greenthread; False if it
    ran already."""
    global _done
    with _started:
        if _done:
            return False
        _done = True
    eventlet.spawn(_recover_logged, resume, is_k2hdkc)
    return True


def _recover_logged(resume: Callable[[str, int], None],
                    is_k2hdkc: Callable[[str], bool]) -> None:
    try:
        recover(resume, is_k2hdkc=is_k2hdkc)
    except Exception:
        LOG.exception('Looking for interrupted K2HDKC cluster tasks failed')
