"""Finish or end a ring procedure whose taskmanager died
(doc/ring-procedures.md §11).

Nothing of the dead process survives but the ring itself, so the ring's
status codes decide: what is merging is merged to the end, new members
that are up and listed join, members that left the ring stay out. The
K2HR3 side is never changed here: it needs the requester's Keystone
token, which died with the request (doc/k2hr3-layout.md §1); what only
K2HR3 can finish is left for the user's next ``cluster shrink``, and
the outcome says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
import dataclasses

from oslo_log import log as logging

from trove_k2hdkc.cluster import ringstate as rs
from trove_k2hdkc.cluster import watchdog
from trove_k2hdkc.cluster.errors import GuestCallError
from trove_k2hdkc.cluster.errors import ProcedureError
from trove_k2hdkc.cluster.model import Member
from trove_k2hdkc.cluster.procedures import Procedures

LOG = logging.getLogger(__name__)

GROW, SHRINK, ROLL = 'grow', 'shrink', 'rolling restart or upgrade'
_ADD, _DELETE = 0x1, 0x2


in_ring = rs.in_ring


_action = rs.action


def _dead_leaver(code: int | None) -> bool:
    """Down and [DELETE]: a dead member a shrink took out through a live
    peer (doc/ring-procedures.md §4); it never comes back, and MERGE does
    not wait for it."""
    return rs.is_down(code) and _action(code) == _DELETE


def _unsettled(reply: Mapping) -> bool:
    """A member the ring shows down, or its own k2hdkc detached: a
    guest may still be restarting it (an RPC the dead taskmanager sent
    runs to its end on the guest)."""
    try:
        codes = [rs.self_code(reply)] + rs.ring_codes(reply)
    except rs.StatusShapeError:
        return True
    return any(c is not None and (c == rs.SUSPENDED
                                  or (rs.is_down(c) and not _dead_leaver(c)))
               for c in codes)


def _busy(code: int | None) -> bool:
    """Taking part in a merge: [ADD]/[DELETE], or Pending/Doing/Done."""
    return bool(_action(code) or rs.operate(code))


@dataclasses.dataclass
class Outcome:
    """How the ring ended: ``serving`` are in the ring, healthy;
    ``outside`` are members Trove lists that are not in it; ``step``
    where the dead taskmanager had got to, as the ring showed it;
    ``done`` what this resume did."""

    serving: list[str]
    outside: list[str]
    step: str
    done: str


def observe(procs: Procedures, ids: Sequence[str]
            ) -> tuple[dict[str, int | None], dict[str, str]]:
    """Each member's status code, and its IP (its SVRNODE name); the
    ring's control port becomes ``procs.server_ctlport`` (SERVICEOUT
    needs it, and the recorded one is in K2HR3). Waits
    up to ``status_timeout`` for every guest to answer. A guest that
    stays silent is judged by its peers' ring views; one that no view
    lists is outside the ring (None)."""
    deadline = procs.fleet.monotonic() + procs.timing.status_timeout
    while True:
        replies, silent = procs._statuses(ids)
        waiting = [i for i in silent if not replies or not all(
            _dead_leaver(c) for c in rs.seen_as(replies, i))]
        if not (waiting or any(_unsettled(r) for r in replies.values())) \
                or procs.fleet.monotonic() >= deadline:
            break
        procs.fleet.sleep(procs.timing.poll_interval)
    codes: dict[str, int | None] = {}
    ips: dict[str, str] = {}
    ctlports = {e.get('ctlport') for r in replies.values()
                for e in r.get('ring') or ()} - {None}
    if len(ctlports) == 1:
        procs.server_ctlport = int(ctlports.pop())
    for node in ids:
        reply = replies.get(node)
        try:
            codes[node] = rs.self_code(reply) if reply else None
        except rs.StatusShapeError:
            codes[node] = None
        for other in replies.values():
            for entry in other.get('ring') or ():
                if entry.get('custom_id_seed') == node:
                    ips[node] = entry.get('name') or ''
                    if codes[node] is None:
                        codes[node] = rs.ring_code(other, node)
    return codes, ips


def resume(procs: Procedures, ids: Sequence[str], kind: str) -> Outcome:
    """Bring the ring of the members ``ids`` to a serving state after a
    ``kind`` operation stopped at an unknown point."""
    codes, ips = observe(procs, ids)
    members = {i: Member(i, ips.get(i, '')) for i in ids}
    step = _where(kind, codes)
    done = []
    if kind == GROW:
        joined = _join_listed(procs, members, codes)
        if joined:
            done.append('started %s and put it in the ring'
                        % ', '.join(joined))
            codes, _ = observe(procs, ids)
    # a dead leaver takes no part: the live members merge without it
    ring = [i for i in ids if in_ring(codes[i])
            and not _dead_leaver(codes[i])]
    down = [i for i in ring if rs.is_down(codes[i])]
    merging = [i for i in ring if _busy(codes[i])]
    if merging and down:
        raise ProcedureError('resume', 'the ring is merging but %s is down; '
                             'chmpx refuses MERGE until it is back'
                             % ', '.join(down))
    if down:
        # Everything below merges (a purge too); a purge would empty a
        # member whose keys' other copy may be on the down one, and its
        # MERGE would be refused: nothing is done.
        raise ProcedureError('resume', '%s is down in the ring; chmpx '
                             'refuses MERGE until it is back or shrunk out'
                             % ', '.join(down))
    dead = [i for i in ids if _dead_leaver(codes[i])]
    if dead or any(_action(codes[i]) for i in merging):
        _finish_topology_merge(procs, members, codes, ring)
        done.append('finished the merge of the ring and purged every member')
    else:
        for i in merging:
            # one MERGE merges every member that is Pending: those that
            # came back with an earlier one need none of their own
            if procs._codes([i])[i] == rs.HEALTHY:
                continue
            procs._merge_back('resume: merge back %s' % i, members[i],
                              [members[n] for n in ring])
        if merging:
            done.append('merged %s back' % ', '.join(merging))
        left = any(not in_ring(codes[i]) for i in ids)
        if (kind == GROW and not left) or (kind == SHRINK and left):
            # the membership changed (past COMPMERGE) and the purge may
            # not have reached every member (§5)
            procs.purge([members[i] for i in ring])
            done.append('purged every member')
    codes, _ = observe(procs, ids)
    serving = [i for i in ids if in_ring(codes[i])]
    outside = [i for i in ids if i not in serving]
    if kind == SHRINK:
        running = [i for i in outside if codes[i] == rs.SERVICE_OUT_UP]
        if running:
            procs._all('resume: stop leaving nodes', running, 'stop_node')
            done.append('stopped %s' % ', '.join(running))
    procs.require_healthy([members[i] for i in serving])
    return Outcome(serving, outside, step, '; '.join(done) or
                   'nothing: the ring was serving')


def _where(kind: str, codes: Mapping[str, int | None]) -> str:
    """The step the ring shows the operation had reached."""
    ring = [c for c in codes.values() if in_ring(c)]
    if any(_action(c) for c in ring if c is not None):
        return ('the merge of the ring (SERVICEIN/SERVICEOUT done, k2hdkc '
                'restarts, MERGE or COMPMERGE)')
    if any(rs.operate(c) for c in ring if c is not None):
        return 'a purge or rejoin of one member (MERGE or COMPMERGE)'
    outside = [c for c in codes.values() if not in_ring(c)]
    if kind == GROW and outside:
        return 'before the new members joined the ring (K2HR3, configure, ' \
               'start or SERVICEIN)'
    if kind == SHRINK and outside:
        return 'after the leavers left the ring (stop, K2HR3 host removal ' \
               'or purge)'
    return 'with every member in the ring and healthy'


def _join_listed(procs: Procedures, members: Mapping[str, Member],
                 codes: Mapping[str, int | None]) -> list[str]:
    """New members (grow) outside the ring whom every ring member's INI
    lists already: start them and SERVICEIN (doc/ring-procedures.md §3
    steps 2-3). A member whose start fails (never configured), or
    whose guest does not answer, stays out."""
    ring = [m for i, m in members.items() if in_ring(codes[i])]
    out = [m for i, m in members.items() if not in_ring(codes[i])]
    if not ring or not out:
        return []
    # K2HR3 lists the new hosts once the grow got that far: the INI the
    # ring members fetch with their own role token says so.
    procs._all('resume: refresh config', [m.id for m in ring],
               'refresh_config')
    replies, silent = procs._statuses([m.id for m in ring])
    if silent:
        return []
    listed = [m for m in out if all(
        rs.ring_code(replies[r.id], m.id) is not None for r in ring)]
    # a guest that gives no status (its VM lost) would only make each
    # call below wait for its RPC timeout
    answering, _ = procs._statuses([m.id for m in listed])
    listed = [m for m in listed if m.id in answering]
    joined = []
    for m in listed:
        try:
            if codes[m.id] != rs.SERVICE_OUT_UP:
                procs._one('resume: start %s' % m.id, m.id, 'start_node')
                procs.wait_self('resume: %s up' % m.id,
                                {m.id: frozenset({rs.SERVICE_OUT_UP})})
            procs._one('resume: service in %s' % m.id, m.id, 'service_in')
            procs.wait_self('resume: %s [ADD][Pending]' % m.id,
                            {m.id: frozenset({rs.ADD_PENDING})})
        except (GuestCallError, ProcedureError) as exc:
            LOG.warning('resume: %s stays out of the ring: %s', m.id, exc)
            continue
        joined.append(m.id)
    return joined


def _finish_topology_merge(procs: Procedures,
                           members: Mapping[str, Member],
                           codes: Mapping[str, int | None],
                           ring: Sequence[str]) -> None:
    """doc/ring-procedures.md §3 steps 4-7 / §4 steps 2-5 from wherever
    the ring is: existing members not yet [Pending] are restarted (none
    is once the MERGE was sent), then the watched merge, COMPMERGE,
    leavers stopped, and every remaining member purged."""
    joining = [members[i] for i in ring if _action(codes[i]) == _ADD]
    leaving = [members[i] for i in ring if _action(codes[i]) == _DELETE]
    existing = [members[i] for i in ring if not _action(codes[i])]
    started = any(rs.operate(codes[i]) in (rs.DOING_NIBBLE, rs.DONE_NIBBLE)
                  for i in ring)
    procs.outage(True)
    if not started:
        procs._restart_each([m for m in existing
                             if codes[m.id] == rs.HEALTHY], 'resume')
    expected = {m.id: frozenset({rs.DONE}) for m in existing}
    expected.update({m.id: frozenset({rs.ADD_DONE}) for m in joining})
    expected.update({m.id: frozenset({rs.DELETE_DONE}) for m in leaving})
    via = (existing or joining)[0]
    others = [members[i] for i in ring if i != via.id]
    watchdog.merge(procs, 'resume', via, others, expected, leaving)
    everyone = [members[i] for i in ring]
    procs._comp_merge('resume', via, everyone)
    final = {m.id: frozenset({rs.HEALTHY}) for m in existing + joining}
    final.update({m.id: frozenset({rs.SERVICE_OUT_UP}) for m in leaving})
    procs.wait_self('resume: ring healthy', final)
    procs.outage(False)
    if leaving:
        procs._all('resume: stop leaving nodes', [m.id for m in leaving],
                   'stop_node')
    procs.purge(existing + joining)
