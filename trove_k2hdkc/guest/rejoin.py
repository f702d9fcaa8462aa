"""When may a node merge itself back without a taskmanager procedure?

doc/ring-procedures.md §6: a node that lost its k2hdkc (or its chmpx) and
came back with the same identity shows ``0x1021 [n/a][Pending]`` and needs
MERGE then COMPMERGE; nobody else sends them with AUTOMERGE=off.  The node
may send them itself only when no procedure is running, which it can only
tell from the ring: every other listed server is exactly ``0x21``.  During
grow or shrink another server is always [ADD] or [DELETE], and during a
merge or a failure some server is Pending, Doing, Done, Suspend or DOWN.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
import enum

from oslo_log import log as logging

from trove_k2hdkc.chmpx import ctlport as ctl
from trove_k2hdkc.chmpx import status as chst
from trove_k2hdkc.chmpx.errors import ControlPortError
from trove_k2hdkc.chmpx.errors import ControlPortTimeout
from trove_k2hdkc.guest.errors import GuestNodeError
from trove_k2hdkc.guest.errors import RejoinRefused
from trove_k2hdkc.guest.errors import RuntimeStartError

LOG = logging.getLogger(__name__)

#: ``[SERVICE IN][UP][n/a][Pending][NoSuspend]``.
PENDING_CODE = 0x1021


class Plan(enum.Enum):
    NOTHING = 'nothing'        # already 0x21
    MERGE = 'merge'            # MERGE, COMPMERGE on the own control port
    BOOTSTRAP = 'bootstrap'    # the only listed server: bootstrap alone


def _describe(server: chst.ServerStatus) -> str:
    return '%s:%d %s' % (server.server_name, server.ctlport,
                         server.status.text)


def others(me: chst.SelfStatus,
           ring: chst.AllStatus) -> Sequence[chst.ServerStatus]:
    """The servers of ``ring`` that are not this node."""
    mine = ring.find(ctlport=me.ctlport, custom_id_seed=me.custom_id_seed,
                     cuk=me.cuk)
    if mine is None:
        raise RejoinRefused(
            'this node (control port %d) is not listed exactly once in its '
            'own ALLSTATUS; not touching the ring' % me.ctlport)
    return [server for server in ring.servers if server is not mine]


def plan(me: chst.SelfStatus, ring: chst.AllStatus) -> Plan:
    """What brings this node back to 0x21; raises ``RejoinRefused`` when
    that is a taskmanager's business (a procedure or another failure)."""
    if me.status.is_healthy:
        return Plan.NOTHING
    rest = others(me, ring)
    if not rest:
        return Plan.BOOTSTRAP
    busy = [server for server in rest if not server.status.is_healthy]
    if busy:
        raise RejoinRefused(
            'not merging this node (%s) back: other servers are not '
            'healthy, so a procedure or another failure is in progress: %s'
            % (me.status.text, ', '.join(_describe(s) for s in busy)))
    if me.status.code != PENDING_CODE:
        raise RejoinRefused(
            'not merging this node back: it is %s, not 0x%x [n/a][Pending]'
            % (me.status.text, PENDING_CODE))
    return Plan.MERGE


# -- the merge back, watched (doc/ring-procedures.md §8) -------------------

#: MERGEs one guest-local merge back sends before it gives up for now.
MERGE_ATTEMPTS = 2
#: Seconds an ABORTMERGE via a peer may take to show on this node.
ABORT_TIMEOUT = 30.0

#: ``K2hdkcApp.wait_for``: (predicate, what, timeout or None) -> status;
#: raises ``RuntimeStartError`` when the predicate does not hold in time.
Wait = Callable[[Callable[[chst.NodeStatus], bool], str, 'float | None'],
                chst.NodeStatus]


class MergeHung(GuestNodeError):
    """The merge back hung on every attempt and was aborted: the node
    stays [n/a][Pending], its ranges served by their replicas, until a
    later try (the healer retries with backoff)."""


def peers(me: chst.SelfStatus, ring: chst.AllStatus, timeout: float,
          command_timeout: float = ctl.DEFAULT_COMMAND_TIMEOUT
          ) -> list[ctl.ControlPortClient]:
    """Control ports of the other servers, from this node's ALLSTATUS:
    an ABORTMERGE sent to the stuck node itself does nothing."""
    return [ctl.ControlPortClient(s.server_name, s.ctlport, timeout=timeout,
                                  command_timeout=command_timeout)
            for s in others(me, ring)]


def merge_back(own: ctl.ControlPortClient,
               peer_ports: Sequence[ctl.ControlPortClient], wait: Wait,
               bound: float, attempts: int = MERGE_ATTEMPTS) -> None:
    """MERGE on the own control port; no [Done] within ``bound`` seconds
    is a hang: ABORTMERGE via a peer, wait for [Pending], MERGE again.
    After ``attempts`` hangs raise ``MergeHung``; else COMPMERGE."""
    for attempt in range(1, attempts + 1):
        _send(own.merge, 'MERGE')
        try:
            node = wait(lambda s: s.needs_compmerge or s.is_healthy,
                        '[Done] of the merge', bound)
        except RuntimeStartError as exc:
            LOG.warning('Merge back %d of %d hangs: %s', attempt, attempts,
                        exc)
            _abort_via_peer(peer_ports, wait)
            continue
        if node.needs_compmerge:
            _send(own.comp_merge, 'COMPMERGE')
        wait(lambda s: s.is_healthy, 'healthy after COMPMERGE', None)
        return
    raise MergeHung(
        'the merge back hung %d times (no [Done] within %.0f s each) and '
        'was aborted; the node stays [Pending], served by its replicas, '
        'and is merged back later' % (attempts, bound))


def _send(command: Callable[[], object], name: str) -> None:
    """A reply that comes too late is no failure: the status wait that
    follows tells whether the command took effect."""
    try:
        command()
    except ControlPortTimeout as exc:
        LOG.warning('%s got no reply in time (%s); judging by status.',
                    name, exc)


def _abort_via_peer(peer_ports: Sequence[ctl.ControlPortClient],
                    wait: Wait) -> None:
    """ABORTMERGE through the first peer after which this node is
    [Pending] again: one that answers but changes nothing (the stuck
    node, §8) is no better than one that does not answer."""
    problems = []
    for port in peer_ports:
        where = '%s:%d' % (port.host, port.port)
        try:
            port.abort_merge()
        except ControlPortTimeout as exc:
            LOG.warning('ABORTMERGE via %s got no reply in time (%s); '
                        'judging by status.', where, exc)
        except ControlPortError as exc:
            problems.append('%s: %s' % (where, exc))
            continue
        try:
            wait(lambda s: s.needs_merge,
                 '[Pending] after ABORTMERGE via %s' % where, ABORT_TIMEOUT)
        except RuntimeStartError as exc:
            problems.append(str(exc))
            continue
        LOG.info('Hung merge aborted via %s.', where)
        return
    raise MergeHung('the merge back hangs and no peer could abort it: %s'
                    % ('; '.join(problems) or 'no peer listed'))
