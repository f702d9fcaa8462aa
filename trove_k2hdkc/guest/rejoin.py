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

from collections.abc import Sequence
import enum

from trove_k2hdkc.chmpx import status as chst
from trove_k2hdkc.guest.errors import RejoinRefused

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
