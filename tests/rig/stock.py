"""Upstream's scaling procedure, as a taskmanager strategy for the rig.

Test-only: proves that the rig's data check can fail. The order is the
stock one (doc/ring-procedures.md §1, upstream prior art): every INI
rewritten, the new node started and SERVICE IN, one MERGE, COMPMERGE —
no k2hdkc restart on the existing nodes, so only the joining node
merges and keys whose primary moved between old nodes become
unreadable. Shrink likewise merges only the leaver. A rig test restarts
trove-taskmanager with ``STOCK_CONF`` to use it.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence

from trove_k2hdkc.cluster import ringstate as rs
from trove_k2hdkc.cluster import taskmanager
from trove_k2hdkc.cluster.procedures import Member
from trove_k2hdkc.cluster.procedures import Procedures
from trove_k2hdkc.k2hr3.access import NodeAccess

STOCK_CONF = ('[k2hdkc]\ntaskmanager_strategy = '
              'tests.rig.stock.StockTaskManagerStrategy\n')


def _codes(members: Sequence[Member], code: int) -> dict:
    return {m.id: frozenset({code}) for m in members}


class StockProcedures(Procedures):

    def grow(self, existing: Sequence[Member], new: Sequence[Member],
             access: NodeAccess,
             joining: Callable[[], None] = lambda: None) -> None:
        ids = [m.id for m in new]
        self._all('stock grow: refresh config', [m.id for m in existing],
                  'refresh_config')
        self.wait_ring('stock grow: new nodes listed', existing, new,
                       frozenset({rs.SERVICE_OUT_DOWN}))
        self._all('stock grow: configure', ids, 'configure_node',
                  **access.kwargs())
        self._all('stock grow: start', ids, 'start_node')
        self.wait_self('stock grow: up', _codes(new, rs.SERVICE_OUT_UP))
        joining()
        for m in new:
            self._one('stock grow: service in', m.id, 'service_in')
        self._one('stock grow: merge', existing[0].id, 'merge')
        self.wait_self('stock grow: merged', _codes(new, rs.ADD_DONE))
        self._one('stock grow: complete', existing[0].id, 'complete_merge')
        self.wait_self('stock grow: healthy',
                       _codes(list(existing) + list(new), rs.HEALTHY))

    def shrink_ring(self, remaining: Sequence[Member],
                    leaving: Sequence[Member],
                    dead: Sequence[Member] = ()) -> None:
        for m in leaving:
            self._service_out('stock shrink', remaining[0], m)
        for m in dead:
            self._service_out_dead('stock shrink', remaining, m)
        self._one('stock shrink: merge', remaining[0].id, 'merge')
        self.wait_self('stock shrink: merged',
                       _codes(leaving, rs.DELETE_DONE))
        self._one('stock shrink: complete', remaining[0].id,
                  'complete_merge')
        self.wait_self('stock shrink: out', _codes(leaving,
                                                   rs.SERVICE_OUT_UP))
        self._all('stock shrink: stop', [m.id for m in leaving],
                  'stop_node')

    def purge(self, members: Sequence[Member]) -> None:
        """Upstream has no purge."""


class StockClusterTasks(taskmanager.K2hdkcClusterTasks):
    procedures_class = StockProcedures


class StockTaskManagerStrategy(taskmanager.K2hdkcTaskManagerStrategy):

    @property
    def task_manager_cluster_tasks_class(self) -> type:
        return StockClusterTasks
