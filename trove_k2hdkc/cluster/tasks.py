"""Cluster tasks that announce the read/write outage of a ring merge.

Grow and shrink make every node merge at once (doc/ring-procedures.md §7):
from the second k2hdkc restart until COMPMERGE the cluster serves no
reads or writes. Users see that window in ``cluster show`` as the task
description, under the task name Trove already uses for the operation,
so tools that wait for ``GROWING_CLUSTER``/``SHRINKING_CLUSTER`` to end
keep working.

Trove 26 closes ``ClusterTask``'s constructor once its own tasks exist
(``ClusterTask.__init__ = None``); these register in the same lookup
table through a subclass. Importing this module (the API and
taskmanager strategies do) makes the codes known to that process.
"""

from __future__ import annotations

from trove.cluster.tasks import ClusterTask
from trove.cluster.tasks import ClusterTasks

OUTAGE_NOTE = ('reads and writes fail until the merge completes (about '
               '5 s plus 1 s per 1,000 keys per node); clients must retry.')


class K2hdkcClusterTask(ClusterTask):

    def __init__(self, code: int, name: str, description: str) -> None:
        self._code = int(code)
        self._name = name
        self._description = description
        if ClusterTask._lookup.get(self._code, self) is not self:
            raise ValueError('cluster task code 0x%x is taken' % code)
        ClusterTask._lookup[self._code] = self


GROWING_MERGE = K2hdkcClusterTask(
    0x4B01, ClusterTasks.GROWING_CLUSTER.name,
    'Increasing the size of the cluster: the ring is merging; '
    + OUTAGE_NOTE)
SHRINKING_MERGE = K2hdkcClusterTask(
    0x4B02, ClusterTasks.SHRINKING_CLUSTER.name,
    'Decreasing the size of the cluster: the ring is merging; '
    + OUTAGE_NOTE)

#: Code of the operation's own task -> its merge-window task.
MERGE_WINDOW = {ClusterTasks.GROWING_CLUSTER.code: GROWING_MERGE,
                ClusterTasks.SHRINKING_CLUSTER.code: SHRINKING_MERGE}

# A task whose taskmanager died, taken over by another one at its start
# (``orphans``, doc/ring-procedures.md §11); same names, so tools that wait
# for the operation's task to end keep working.
_RESUMING_NOTE = ('; its taskmanager stopped, another one is finishing '
                  'or ending it.')
RESUMING_GROW = K2hdkcClusterTask(
    0x4B03, ClusterTasks.GROWING_CLUSTER.name,
    'Increasing the size of the cluster' + _RESUMING_NOTE)
RESUMING_SHRINK = K2hdkcClusterTask(
    0x4B04, ClusterTasks.SHRINKING_CLUSTER.name,
    'Decreasing the size of the cluster' + _RESUMING_NOTE)
RESUMING_RESTART = K2hdkcClusterTask(
    0x4B05, ClusterTasks.RESTARTING_CLUSTER.name,
    'Restarting the cluster' + _RESUMING_NOTE)
RESUMING_UPGRADE = K2hdkcClusterTask(
    0x4B06, ClusterTasks.UPGRADING_CLUSTER.name,
    'Upgrading the cluster' + _RESUMING_NOTE)
RESUMING_CREATE = K2hdkcClusterTask(
    0x4B08, ClusterTasks.BUILDING_INITIAL.name,
    'Building the initial cluster' + _RESUMING_NOTE)

# A cluster backup set runs (doc/backup.md §6): every member backs up,
# and no other task may change the ring meanwhile.
BACKING_UP = K2hdkcClusterTask(
    0x4B09, 'BACKING_UP',
    'Backing up every member of the cluster as a backup set.')
RESUMING_BACKUP = K2hdkcClusterTask(
    0x4B0A, BACKING_UP.name,
    'Backing up every member of the cluster as a backup set'
    + _RESUMING_NOTE)

#: Code of a running task (its merge window, or a resume of it) -> the
#: task a taskmanager that takes it over holds.
RESUMABLE = {
    ClusterTasks.GROWING_CLUSTER.code: RESUMING_GROW,
    GROWING_MERGE.code: RESUMING_GROW,
    RESUMING_GROW.code: RESUMING_GROW,
    ClusterTasks.SHRINKING_CLUSTER.code: RESUMING_SHRINK,
    SHRINKING_MERGE.code: RESUMING_SHRINK,
    RESUMING_SHRINK.code: RESUMING_SHRINK,
    ClusterTasks.RESTARTING_CLUSTER.code: RESUMING_RESTART,
    RESUMING_RESTART.code: RESUMING_RESTART,
    ClusterTasks.UPGRADING_CLUSTER.code: RESUMING_UPGRADE,
    RESUMING_UPGRADE.code: RESUMING_UPGRADE,
    ClusterTasks.BUILDING_INITIAL.code: RESUMING_CREATE,
    RESUMING_CREATE.code: RESUMING_CREATE,
    BACKING_UP.code: RESUMING_BACKUP,
    RESUMING_BACKUP.code: RESUMING_BACKUP,
}

#: Codes one operation's task goes through while it runs (its heartbeat
#: is written while the cluster holds any of them).
HELD = {
    ClusterTasks.GROWING_CLUSTER.code: frozenset({
        ClusterTasks.GROWING_CLUSTER.code, GROWING_MERGE.code}),
    ClusterTasks.SHRINKING_CLUSTER.code: frozenset({
        ClusterTasks.SHRINKING_CLUSTER.code, SHRINKING_MERGE.code}),
}

# A delete whose K2HR3 teardown left objects behind (doc/k2hr3-layout.md
# §4): the instances are gone, the cluster row stays so that the failure
# shows and the delete can be run again (``api.K2hdkcCluster.delete``).
DELETE_FAILED = K2hdkcClusterTask(
    0x4B07, 'DELETE_FAILED',
    'Deleting the cluster failed: K2HR3 still holds objects named '
    'k2hdkc-<cluster id> (the taskmanager log names each); delete the '
    'cluster again to retry.')
