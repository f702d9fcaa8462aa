"""One cluster task at a time: claim the task with a conditional UPDATE.

Trove's cluster API reads the task, checks it is NONE and then saves the
new one; two requests that read at the same moment both pass. Here the
check and the write are one statement::

    UPDATE clusters SET task_id=<new> WHERE id=<id> AND task_id IN (<from>)

and the database serialises it: exactly one caller sees a row changed.
The loser gets ``faults.ClusterBusy`` (HTTP 409) naming the task that
runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from trove.cluster.models import DBCluster
from trove.cluster.tasks import ClusterTask
from trove.cluster.tasks import ClusterTasks
from trove.common import exception
from trove.common import timeutils

from trove_k2hdkc.cluster.faults import ClusterBusy


def _swap(cluster_id: str, new: ClusterTask,
          expected: Iterable[ClusterTask]) -> int:
    """The conditional UPDATE; returns the number of rows it changed."""
    codes = [task.code for task in expected]
    with DBCluster.query() as query:
        return query.filter(
            DBCluster.id == cluster_id,
            DBCluster.deleted == False,  # noqa: E712 (SQL, not Python)
            DBCluster.task_id.in_(codes),
        ).update({'task_id': new.code, 'updated': timeutils.utcnow()},
                 synchronize_session=False)


def current_task(cluster_id: str) -> ClusterTask | None:
    """The task the database holds now (None: the cluster is gone)."""
    try:
        return DBCluster.find_by(id=cluster_id, deleted=False).task_status
    except exception.ModelNotFoundError:
        return None


def claim(db_info: Any, task: ClusterTask,
          expected: Iterable[ClusterTask] = (ClusterTasks.NONE,)) -> None:
    """Set the cluster's task to ``task`` if it is one of ``expected``,
    else raise ``ClusterBusy``. ``db_info`` follows the new task so a
    later ``db_info.update`` does not write the old one back."""
    if _swap(db_info.id, task, expected) != 1:
        raise ClusterBusy(db_info.id, task, current_task(db_info.id))
    db_info.task_status = task


def release(db_info: Any, task: ClusterTask) -> None:
    """Back to NONE, but only if ``task`` still holds the cluster: a
    failed hand-off must not end a task someone else holds."""
    _swap(db_info.id, ClusterTasks.NONE, [task])
    db_info.task_status = ClusterTasks.NONE


def switch(cluster_id: str, held: ClusterTask, to: ClusterTask) -> bool:
    """The holder of ``held`` moves on to ``to``; False if it no longer
    held it."""
    return _swap(cluster_id, to, [held]) == 1
