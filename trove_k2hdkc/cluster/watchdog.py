"""The merge watchdog: MERGE, and what to do when it hangs.

The requester of a hung merge waits for ever (doc/ring-procedures.md §8),
so every MERGE is watched. First hang: ABORTMERGE via another node, MERGE
again. Second hang: restart the k2hdkc of the stuck responder(s) (the
guest escalates to SIGKILL and a chmpx restart itself), then MERGE a last
time. A third hang fails the procedure with the step and the codes last
seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING

from oslo_log import log as logging

from trove_k2hdkc.cluster import ringstate as rs

if TYPE_CHECKING:
    from trove_k2hdkc.cluster.procedures import Member
    from trove_k2hdkc.cluster.procedures import Procedures

LOG = logging.getLogger(__name__)

PENDINGS = frozenset({rs.PENDING, rs.ADD_PENDING, rs.DELETE_PENDING})
_DOING, _DONE = 0x2, 0x3   # the OPERATE nibble: Pending 1, Doing 2, Done 3


def _operate(code: int | None) -> int | None:
    return None if code is None else (code >> 12) & 0xF


def stuck_responders(codes: Mapping[str, int | None],
                     sender: str) -> list[str]:
    """doc/ring-procedures.md §8: the stuck responder finished its own merge
    (Done) while the others stayed in Doing. If no node shows that, suspect
    every node but the one MERGE was sent to."""
    done = [n for n, c in codes.items() if _operate(c) == _DONE]
    doing = [n for n, c in codes.items() if _operate(c) == _DOING]
    if done and doing:
        return sorted(done)
    return sorted(n for n in codes if n != sender)


def merge(procs: Procedures, why: str, via: Member,
          others: Sequence[Member], expected: Mapping[str, frozenset[int]],
          leaving: Sequence[Member] = ()) -> None:
    """MERGE via ``via`` and wait until every node in ``expected`` shows
    one of its codes; ``leaving`` nodes must keep [DELETE] throughout."""
    step = '%s: merge' % why
    timeout = procs.timing.merge_timeout
    procs._one(step, via.id, 'merge')
    if procs._settles(step, expected, timeout):
        return
    # "another node" (doc/ring-procedures.md §8) unless the codes point at a
    # stuck one
    candidates = [*others, via]
    sender, _ = _suspects(procs, expected, candidates, candidates[0])
    _abort(procs, why, sender, expected, leaving)
    procs._one(step + ': retry', sender.id, 'merge')
    if procs._settles(step + ' (retry)', expected, timeout):
        return
    # the retry went to ``sender``: every other node is a suspect unless
    # the codes point at the stuck one(s)
    sender, stuck = _suspects(procs, expected, candidates, sender)
    LOG.warning('%s hangs again; restarting k2hdkc on %s', step,
                ', '.join(stuck))
    _abort(procs, why, sender, expected, ())
    for node in stuck:
        procs._one('%s: restart stuck responder %s' % (why, node), node,
                   'restart_k2hdkc')
    procs.wait_self('%s: restarted responders Pending' % why,
                    {n: PENDINGS for n in stuck})
    _restore_leavers(procs, why, sender, leaving)
    procs._one(step + ': last try', sender.id, 'merge')
    procs.wait_self('%s (after restarting %s)' % (step, ', '.join(stuck)),
                    expected, timeout)


def _suspects(procs: Procedures, expected: Mapping[str, frozenset[int]],
              candidates: Sequence[Member], default: Member
              ) -> tuple[Member, list[str]]:
    """A node to send the next ABORTMERGE and MERGE through (one sent to the
    stuck node does nothing, doc/ring-procedures.md §8) and the stuck
    responders: those the codes show, else every node but ``default``."""
    codes = procs._codes(list(expected))
    stuck = stuck_responders(codes, sender=default.id)
    LOG.warning('hung merge: %s; suspects %s', ', '.join(
        '%s %s' % (n, rs.describe(c)) for n, c in sorted(codes.items())),
        ', '.join(stuck))
    sender = next((m for m in [default, *candidates] if m.id not in stuck),
                  default)
    return sender, stuck


def _abort(procs: Procedures, why: str, via: Member,
           expected: Mapping[str, frozenset[int]],
           leaving: Sequence[Member]) -> None:
    """ABORTMERGE via a node that is not stuck (sent to the stuck node
    it does nothing) and wait until every node is Pending again."""
    procs._one('%s: merge: abort' % why, via.id, 'abort_merge')
    procs.wait_self('%s: merge: abort settles' % why,
                    {n: PENDINGS for n in expected})
    _restore_leavers(procs, why, via, leaving)


def _restore_leavers(procs: Procedures, why: str, via: Member,
                     leaving: Sequence[Member]) -> None:
    """ABORTMERGE turns [DELETE][Pending] into [n/a][Pending]: re-send
    SERVICEOUT before the next MERGE."""
    if not leaving:
        return
    codes = procs._codes([m.id for m in leaving])
    for m in leaving:
        if codes[m.id] != rs.DELETE_PENDING:
            procs._service_out(why, via, m)
