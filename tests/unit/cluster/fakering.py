"""In-memory ring simulator for the cluster procedure tests.

Models only the CHMPX status transitions of doc/ring-procedures.md (no
data): each fake guest answers the guest RPC contract methods, refuses
calls that the real chmpx would refuse, and records every call so tests
can check order. Not a data-plane stand-in.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from trove_k2hdkc.cluster import ringstate as rs
from trove_k2hdkc.cluster.procedures import GuestCallError

PENDINGS = {rs.PENDING, rs.ADD_PENDING, rs.DELETE_PENDING}
DOING = {rs.PENDING: 0x2021, rs.ADD_PENDING: 0x2121,
         rs.DELETE_PENDING: 0x2221}
DONE = {rs.PENDING: rs.DONE, rs.ADD_PENDING: rs.ADD_DONE,
        rs.DELETE_PENDING: rs.DELETE_DONE}
# ABORTMERGE: back to Pending; [DELETE] is lost (doc/ring-procedures.md §8).
ABORTED = {0x2021: rs.PENDING, rs.DONE: rs.PENDING,
           0x2121: rs.ADD_PENDING, rs.ADD_DONE: rs.ADD_PENDING,
           rs.DELETE_PENDING: rs.PENDING, 0x2221: rs.PENDING,
           rs.DELETE_DONE: rs.PENDING}


class RefusedError(Exception):
    """What chmpx's 'ERROR: Could not change status' becomes."""


@dataclasses.dataclass
class Node:
    id: str
    ip: str
    code: int = rs.SERVICE_OUT_DOWN
    running: bool = False
    listed: tuple = ()
    configured: dict | None = None
    completed: bool = False
    version: str | None = None
    dead: bool = False     # its VM is gone: no guest, no chmpx
    restored: dict | None = None


class Ring:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.k2hr3_hosts: list[str] = []   # ids registered in K2HR3
        self.calls: list[tuple[str, str, dict]] = []
        self.faults: dict[tuple[str, str], Exception] = {}
        # like ``faults``, for the next such call only
        self.faults_once: dict[tuple[str, str], Exception] = {}
        self.merge_hangs = 0               # merges that stay in Doing
        # Stuck responders (doc/ring-procedures.md §8): reach Done while the
        # others stay in Doing, on every MERGE until their k2hdkc restarts
        # after a hang.
        self.stuck: set[str] = set()
        self._hung: set[str] = set()
        # held node -> its stuck responder: every MERGE leaves the held
        # node in Doing (a joining, existing or purging node) while the
        # others finish, until that responder's k2hdkc restarts after
        # the hang (doc/ring-procedures.md §8)
        self.holds: dict[str, str] = {}
        self._held: set[str] = set()
        # node -> merges of its own that hang: real chmpx 1.0.109 leaves a
        # requester in Doing (the others finish) when its merge worker
        # could not read its own k2hdkc; ABORTMERGE works anywhere, and
        # only a restart of that node's own k2hdkc ends it early
        # (doc/ring-procedures.md §8)
        self.own_hangs: dict[str, int] = {}
        # nodes whose ABORTMERGE changes nothing (the data-plane
        # stand-ins' hung requester)
        self.ignores_abort: set[str] = set()
        # (node, method) -> how many more calls take effect but lose
        # their reply (chmpx answered too late)
        self.lost_replies: dict[tuple[str, str], int] = {}
        # > 0: a MERGE finishes one node per ``merge_pace`` seconds
        self.merge_pace = 0.0
        self._paced: list[tuple[float, str]] = []
        # node id -> how many more node_status calls get no answer
        self.silent: dict[str, int] = {}
        # node id -> until when (fake clock) its peers' ring views still
        # show it down after it came back (ALLSTATUS lags SELFSTATUS)
        self.view_lag: dict[str, float] = {}
        # > 0: the peers' ring views show a node's code from before a
        # paced merge step or an ABORTMERGE for that many seconds; real
        # chmpx judges SERVICEOUT and COMPMERGE by its own view
        self.view_delay = 0.0
        self._stale: dict[str, tuple[int, float]] = {}
        self.now = 0.0                     # advanced by FakeFleet.sleep
        # the chmpx server port and control port the ring runs with
        self.port, self.ctlport = 8020, 8021

    def add(self, node_id: str, ip: str, *, healthy: bool = False) -> Node:
        node = Node(node_id, ip)
        if healthy:
            node.code, node.running = rs.HEALTHY, True
        self.nodes[node_id] = node
        return node

    def kill(self, node_id: str) -> None:
        """The member's VM is gone: its guest never answers and its peers
        record it down as chmpx does (``CHANGE_CHMPXSTS_TO_DOWN`` in
        chmpx's chmstructure.h, AUTOMERGE off): a ring member
        [SERVICE IN][DOWN] (0x20); a leaver keeps [DELETE], Pending
        (0x1220) or, once it merged, Done (0x3220); a joining member
        drops out of the ring and one out of it stays out (0x10)."""
        node = self.nodes[node_id]
        node.dead, node.running = True, False
        if node.code & 0xF0 == 0x10:
            node.code = rs.SERVICE_OUT_DOWN
        if node.code & 0xF0 != 0x20:
            return
        act = rs.action(node.code)
        if act == rs.ACTION_DELETE:
            node.code = (rs.DOWN_DELETE_DONE
                         if rs.operate(node.code) in (0x2, 0x3)
                         else rs.DOWN_DELETE_PENDING)
        elif act == 0x1:
            node.code = rs.SERVICE_OUT_DOWN
        else:
            node.code = rs.SERVICE_IN_DOWN

    def listed_all(self) -> None:
        for node in self.nodes.values():
            node.listed = tuple(self.k2hr3_hosts)

    # -- RPC dispatch ------------------------------------------------------

    def call(self, node_id: str, method: str, **kwargs: Any) -> Any:
        self.calls.append((node_id, method, dict(kwargs)))
        fault = self.faults.get((node_id, method)) or self.faults_once.pop(
            (node_id, method), None)
        if fault is not None:
            raise fault
        if self.nodes[node_id].dead:
            raise TimeoutError('%s: no reply from %s (VM gone)'
                               % (method, node_id))
        if method == 'node_status' and self.silent.get(node_id):
            self.silent[node_id] -= 1
            raise TimeoutError('no reply from %s' % node_id)
        self._advance()
        result = getattr(self, '_' + method)(self.nodes[node_id], **kwargs)
        if self.lost_replies.get((node_id, method)):
            self.lost_replies[(node_id, method)] -= 1
            raise TimeoutError('%s: no reply from %s' % (method, node_id))
        return result

    def _advance(self) -> None:
        """Paced merges: the nodes whose time has come reach Done."""
        while self._paced and self._paced[0][0] <= self.now:
            _, node_id = self._paced.pop(0)
            node = self.nodes[node_id]
            self._change(node, {v: DONE[k] for k, v in DOING.items()}.get(
                node.code, node.code))

    def _change(self, node: Node, code: int) -> None:
        """A merge step's or ABORTMERGE's change, seen late by peers."""
        if self.view_delay and code != node.code:
            self._stale[node.id] = (node.code, self.now + self.view_delay)
        node.code = code

    def _view_shows(self, node: Node, *operate: int) -> bool:
        """Does ``node``'s ring view show a node in one of ``operate``?"""
        return any((rs.as_code(e['status']['code']) >> 12) & 0xF in operate
                   for e in self._status(node)['ring'])

    def _status(self, node: Node) -> dict:
        ring = []
        for other_id in node.listed:
            other = self.nodes.get(other_id)
            code = other.code if other and other.running \
                else rs.SERVICE_OUT_DOWN
            if other and other.dead:
                code = other.code   # as its peers last recorded it
            if other_id != node.id and self._lagging(other_id):
                code = rs.SERVICE_IN_DOWN
            stale = self._stale.get(other_id)
            if other_id != node.id and stale and self.now < stale[1]:
                code = stale[0]
            ring.append({'name': other.ip if other else other_id,
                         'port': self.port, 'ctlport': self.ctlport,
                         'custom_id_seed': other_id,
                         'status': {'code': hex(code)}})
        return {'self': {'status': {'code': hex(node.code)}},
                'ring': ring,
                'runtime': {'chmpx': node.running, 'k2hdkc': node.running}}

    def _node_status(self, node: Node) -> dict:
        return self._status(node)

    def _configure_node(self, node: Node, **kwargs: Any) -> dict:
        node.configured = kwargs
        node.listed = tuple(self.k2hr3_hosts)
        return self._status(node)

    def _refresh_config(self, node: Node) -> dict:
        changed = node.listed != tuple(self.k2hr3_hosts)
        node.listed = tuple(self.k2hr3_hosts)
        return {'changed': changed, 'servers': list(node.listed)}

    def _restore_node(self, node: Node, backup_info: dict) -> dict:
        if node.configured is None or node.running:
            raise RefusedError('restore needs a configured, stopped node')
        node.restored = backup_info
        return {'restored': True}

    def _start_node(self, node: Node) -> dict:
        if node.configured is None:
            raise RefusedError('no configuration')
        node.running, node.code = True, rs.SERVICE_OUT_UP
        return self._status(node)

    def _service_in(self, node: Node) -> None:
        if node.code != rs.SERVICE_OUT_UP:
            raise RefusedError('status is not allowed')
        node.code = rs.ADD_PENDING

    def _service_out(self, node: Node, server: str, ctlport: int,
                     custom_id_seed: str) -> None:
        target = self.nodes[custom_id_seed]
        if target.ip != server or ctlport != self.ctlport:
            raise RefusedError('no such server')
        if target.dead:
            # chmpx handles a down server itself: [SERVICE IN][DOWN]
            # [DELETE][Pending] (CHMPXSTS_SRVIN_DOWN_DELPENDING)
            if target.code == rs.SERVICE_IN_DOWN:
                target.code = rs.DOWN_DELETE_PENDING
            return
        if self._view_shows(node, 0x2, 0x3):
            raise RefusedError('server is operating now')
        if target.code not in (rs.HEALTHY, rs.PENDING):
            raise RefusedError('status is not allowed')
        target.code = rs.DELETE_PENDING

    def _restart_k2hdkc(self, node: Node) -> dict:
        if node.code == rs.HEALTHY:
            node.code = rs.PENDING
        elif node.code not in PENDINGS:
            raise RefusedError('restart of a node that is neither healthy '
                               'nor Pending')
        self.own_hangs.pop(node.id, None)
        if node.id in self._hung:
            self.stuck.discard(node.id)
        for held, responder in list(self.holds.items()):
            if responder == node.id and held in self._held:
                del self.holds[held]
        return self._status(node)

    def _lagging(self, node_id: str) -> bool:
        return self.view_lag.get(node_id, 0.0) > self.now

    def _ring_healthy(self) -> bool:
        return all(n.code == rs.HEALTHY and not self._lagging(n.id)
                   for n in self._ring_members())

    def _restart_node(self, node: Node) -> None:
        """The guest's whole-node restart without rejoin: back in
        [n/a][Pending] (a lone server bootstraps itself); the peers' ring
        views catch up a little later."""
        if not self._ring_healthy():
            raise RefusedError('restart while the ring is not healthy')
        node.code = rs.PENDING if len(self._ring_members()) > 1 \
            else rs.HEALTHY
        self.view_lag[node.id] = self.now + 3

    def _pre_upgrade(self, node: Node) -> dict:
        return {'from': node.version}

    def _upgrade(self, node: Node, upgrade_info: dict) -> None:
        if not self._ring_healthy():
            raise RefusedError('upgrade while the ring is not healthy')
        node.version = upgrade_info['datastore_version']
        if upgrade_info.get('rejoin', True) is False:
            node.code = rs.PENDING
        self.view_lag[node.id] = self.now + 3

    def _ring_members(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.running]

    def _merge(self, node: Node) -> None:
        if any(n.dead and n.code == rs.SERVICE_IN_DOWN
               for n in self.nodes.values()):
            raise RefusedError('a SERVICE IN server is down')
        for n in self.nodes.values():
            if n.dead and n.code == rs.DOWN_DELETE_PENDING:
                n.code = rs.DOWN_DELETE_DONE   # nothing to merge itself
        members = [n for n in self._ring_members()
                   if n.code != rs.SERVICE_OUT_UP]
        if any(n.code not in PENDINGS | {rs.HEALTHY} for n in members):
            raise RefusedError('server is operating now')
        stuck = {n.id for n in members} & self.stuck
        held = {n.id for n in members if n.code in PENDINGS} & set(
            self.holds)
        own = {n.id for n in members if n.code in PENDINGS
               and self.own_hangs.get(n.id, 0) > 0}
        if own and not (self.merge_hangs or stuck or held):
            for n in members:
                if n.code in PENDINGS:
                    n.code = (DOING if n.id in own else DONE)[n.code]
            for node_id in own:
                self.own_hangs[node_id] -= 1
            return
        if held and not (self.merge_hangs or stuck):
            self._held |= held
            for n in members:
                if n.code in PENDINGS:
                    n.code = (DOING if n.id in held else DONE)[n.code]
            return
        if self.merge_pace and not (self.merge_hangs or stuck):
            merging = [n for n in members if n.code in PENDINGS]
            for i, n in enumerate(merging, start=1):
                n.code = DOING[n.code]
                self._paced.append((self.now + i * self.merge_pace, n.id))
            return
        if self.merge_hangs or stuck:
            if not stuck:
                self.merge_hangs -= 1
            self._hung |= stuck
            for n in members:
                if n.code in PENDINGS:
                    n.code = (DONE if n.id in stuck else DOING)[n.code]
            return
        for n in members:
            n.code = DONE.get(n.code, n.code)

    def _abort_merge(self, node: Node) -> None:
        if node.id in self.stuck | self.ignores_abort:
            return   # doc/ring-procedures.md §8: no effect on the stuck node
        self._paced.clear()
        for n in self._ring_members():
            self._change(n, ABORTED.get(n.code, n.code))

    def _complete_merge(self, node: Node) -> None:
        done = {rs.DONE: rs.HEALTHY, rs.ADD_DONE: rs.HEALTHY,
                rs.DELETE_DONE: rs.SERVICE_OUT_UP}
        if not any(n.code in done for n in self._ring_members()):
            raise RefusedError('nothing to complete')
        if self._view_shows(node, 0x2):
            raise RefusedError('some servers could not be changed')
        for n in self._ring_members():
            n.code = done.get(n.code, n.code)
        for n in self.nodes.values():
            if n.dead and n.code == rs.DOWN_DELETE_DONE:
                n.code = rs.SERVICE_OUT_DOWN

    def _purge_prepare(self, node: Node) -> dict:
        """k2hdkc restarted on an empty K2HFILE: [n/a][Pending]; sent
        again to a node that is Pending already, it changes nothing."""
        if node.code == rs.HEALTHY:
            node.code = rs.PENDING
        elif node.code != rs.PENDING:
            raise RefusedError('purge of a node that is not healthy')
        return self._status(node)

    def _purge_finish(self, node: Node) -> dict:
        if node.code != rs.HEALTHY:
            raise RefusedError('purge finished on a node not healthy')
        return self._status(node)

    def _stop_node(self, node: Node) -> None:
        node.running, node.code = False, rs.SERVICE_OUT_DOWN

    def _cluster_complete(self, node: Node) -> None:
        node.completed = True

    # -- helpers for assertions -------------------------------------------

    def methods(self, node_id: str | None = None) -> list[str]:
        return [m for n, m, _ in self.calls if node_id in (None, n)
                and m != 'node_status']

    def index(self, node_id: str, method: str) -> int:
        for i, (n, m, _) in enumerate(self.calls):
            if n == node_id and m == method:
                return i
        raise AssertionError('%s never got %s' % (node_id, method))


class FakeFleet:
    """``Fleet`` over a ``Ring``; a fake clock that sleep advances."""

    def __init__(self, ring: Ring) -> None:
        self.ring = ring

    def call(self, node: str, method: str, **kwargs: Any) -> Any:
        return self.ring.call(node, method, **kwargs)

    def call_all(self, nodes, method, **kwargs):
        results, failures = {}, {}
        for node in nodes:
            try:
                results[node] = self.ring.call(node, method, **kwargs)
            except Exception as exc:
                failures[node] = '%s: %s' % (type(exc).__name__, exc)
        if failures:
            raise GuestCallError(method, failures, results)
        return results

    def sleep(self, seconds: float) -> None:
        self.ring.now += seconds

    def monotonic(self) -> float:
        return self.ring.now
