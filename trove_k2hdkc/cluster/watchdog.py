"""The merge watchdog (doc/ring-procedures.md §8): MERGE, and what to do
when it hangs. Every merge the control plane starts goes through
``merge``: bootstrap, grow, shrink, purge and the rejoin of a rolling
restart or upgrade.

The requester of a hung merge waits for ever, so every MERGE is watched.
A hang is no status change on any node for ``Timing.merge_timeout``
seconds while the merge is not finished: a big merge that keeps moving
is left alone. First hang: ABORTMERGE via a node that is not stuck,
restart the k2hdkc of each hung requester, a node left in [Doing]
while others finished (real chmpx leaves a
requester there for good when its merge worker could not read its own
k2hdkc), MERGE again. Second hang: the same, and the k2hdkc of the stuck
responder(s) restarted too (the guest escalates to SIGKILL and a chmpx
restart itself); they take part in the last MERGE. A third hang fails
the procedure with the step and the codes last seen.

A MERGE, ABORTMERGE or COMPMERGE whose reply is late or lost is judged
by the status it should have caused (``Procedures.judged``): real chmpx
took more than 5 s to answer a MERGE while it was merging.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING

from oslo_log import log as logging

from trove_k2hdkc.cluster import ringstate as rs
from trove_k2hdkc.cluster.errors import GuestCallError
from trove_k2hdkc.cluster.errors import LeaverLost
from trove_k2hdkc.cluster.errors import StepTimeout

if TYPE_CHECKING:
    from trove_k2hdkc.cluster.model import Member
    from trove_k2hdkc.cluster.procedures import Procedures

LOG = logging.getLogger(__name__)

PENDINGS = frozenset({rs.PENDING, rs.ADD_PENDING, rs.DELETE_PENDING})
_DOING, _DONE = rs.DOING_NIBBLE, rs.DONE_NIBBLE

Codes = Mapping[str, 'int | None']
Expected = Mapping[str, frozenset[int]]


_operate = rs.operate


def stuck_responders(codes: Codes, sender: str) -> list[str]:
    """The nodes answering a hung merge: those that finished (Done) or
    never merged (0x21, the peers of a purging or rejoining node) while
    another stays in Doing -- a joining node stayed [ADD][Doing] while
    the existing ones were Done. If no node shows that, suspect every
    node but the one MERGE was sent to."""
    doing = [n for n, c in codes.items() if _operate(c) == _DOING]
    answering = [n for n, c in codes.items()
                 if _operate(c) == _DONE or c == rs.HEALTHY]
    if doing and answering:
        return sorted(answering)
    return sorted(n for n in codes if n != sender)


def merge_started(expected: Expected):
    """Did a MERGE whose reply was lost take effect? Some node is in
    Doing or Done, or every node already shows what it should."""
    def check(codes: Codes) -> bool:
        return settled(codes, expected) or any(
            _operate(c) in (_DOING, _DONE) for c in codes.values())
    return check


def merge_completed(codes: Codes) -> bool:
    """Did a COMPMERGE whose reply was lost take effect? No node is in
    [Done] any more."""
    return not any(_operate(c) == _DONE for c in codes.values())


def settled(codes: Codes, expected: Expected) -> bool:
    return all(codes.get(n) in want for n, want in expected.items())


def in_doing(codes: Codes) -> list[str]:
    """The nodes a hung merge left in [Doing] or [ADD][Doing]."""
    return sorted(n for n, c in codes.items() if _operate(c) == _DOING)


def hung_requesters(codes: Codes) -> list[str]:
    """The nodes left in [Doing] while at least as many others are Done
    or never merged (0x21): on the real ring such a requester stays there
    until its own k2hdkc restarts, because its merge worker could not
    read that k2hdkc and exited (doc/ring-procedures.md §8). When most
    merging nodes are in Doing (one stuck responder, or no split at all),
    none is singled out."""
    doing = in_doing(codes)
    answering = [n for n, c in codes.items()
                 if _operate(c) == _DONE or c == rs.HEALTHY]
    return doing if doing and len(doing) <= len(answering) else []


def merge(procs: Procedures, why: str, via: Member,
          others: Sequence[Member], expected: Expected,
          leaving: Sequence[Member] = ()) -> None:
    """MERGE via ``via`` and wait until every node in ``expected`` shows
    one of its codes; ``others`` are the rest of the ring (where an
    ABORTMERGE can go, and who may be a stuck responder); ``leaving``
    nodes must keep [DELETE] throughout. A leaver lost during the merge
    (its VM gone) never reaches its code: ``LeaverLost`` at once, no
    abort (the caller goes on without it, doc/ring-procedures.md §4)."""
    step = '%s: merge' % why
    candidates = [*others, via]
    ids = list(dict.fromkeys([m.id for m in candidates] + list(expected)))
    _send_merge(procs, step, via, ids, expected)
    if _watch(procs, step, ids, expected, leaving) is None:
        return
    # "another node" (§8) unless the codes point at a stuck one
    codes, stuck = _suspects(procs, ids, candidates[0])
    restarted = hung_requesters(codes)
    sender = _recover(procs, why, _abort_order(codes, candidates, stuck),
                      ids, expected, leaving, restarted)
    retry = _with_restarted(expected, restarted)
    _send_merge(procs, step + ': retry', sender, ids, retry)
    if _watch(procs, step + ' (retry)', ids, retry, leaving) is None:
        return
    # the retry went to ``sender``: every other node is a suspect unless
    # the codes point at the stuck one(s)
    codes, stuck = _suspects(procs, ids, sender)
    restarted = sorted(set(hung_requesters(codes)) | set(stuck))
    LOG.warning('%s hangs again; restarting k2hdkc on %s', step,
                ', '.join(restarted))
    sender = _recover(procs, why, _abort_order(codes, candidates, stuck),
                      ids, expected, leaving, restarted)
    # a restarted peer that was not merging is [n/a][Pending] now and
    # takes part in the last MERGE
    last = _with_restarted(expected, restarted)
    final = '%s (after restarting %s)' % (step, ', '.join(restarted))
    _send_merge(procs, step + ': last try', sender, ids, last)
    hung = _watch(procs, final, ids, last, leaving)
    if hung is not None:
        raise StepTimeout(final, hung)


def _with_restarted(expected: Expected, restarted: Sequence[str]
                    ) -> Expected:
    """What a MERGE after restarting ``restarted`` must reach: a
    restarted node that was not merging merges too."""
    want = {n: frozenset({rs.DONE}) for n in restarted}
    want.update(expected)
    return want


def _recover(procs: Procedures, why: str, order: Sequence[Member],
             ids: Sequence[str], expected: Expected,
             leaving: Sequence[Member], restart: Sequence[str]) -> Member:
    """ABORTMERGE (``_abort``), then restart the k2hdkc of each node of
    ``restart`` and wait until they are Pending; the node the abort went
    through is returned. A purging node's k2hdkc restarts on an empty
    file (the guest's ``restart_k2hdkc``, doc/ring-procedures.md §5)."""
    if not restart:
        return _abort(procs, why, order, ids, expected, leaving)
    sender = _abort(procs, why, order, ids, expected, ())
    for node in restart:
        procs._one('%s: restart k2hdkc of %s' % (why, node), node,
                   'restart_k2hdkc')
    procs.wait_self('%s: restarted nodes Pending' % why,
                    {n: PENDINGS for n in restart})
    _restore_leavers(procs, why, sender, leaving)
    return sender


def _send_merge(procs: Procedures, step: str, via: Member,
                ids: Sequence[str], expected: Expected) -> None:
    procs.judged(step, via.id, 'merge', ids, merge_started(expected))


def _watch(procs: Procedures, step: str, ids: Sequence[str],
           expected: Expected, leaving: Sequence[Member] = ()
           ) -> str | None:
    """Poll until ``expected`` holds (None) or no node's code changed for
    ``merge_timeout`` seconds: then what the hang looks like. A node
    that misses a poll neither progresses nor hangs the merge; a leaver
    lost (``ringstate.lost_leavers``) raises ``LeaverLost``."""
    procs._progress(step)
    timeout = procs.timing.merge_timeout
    seen: dict[str, int] = {}
    since = procs.fleet.monotonic()
    while True:
        replies, _ = procs._statuses(ids)
        lost = rs.lost_leavers(replies, leaving)
        if lost:
            raise LeaverLost(step, lost)
        codes = rs.codes_in(replies, ids)
        if settled(codes, expected):
            return None
        now = procs.fleet.monotonic()
        moved = {n: c for n, c in codes.items()
                 if c is not None and seen.get(n) != c}
        if moved:
            seen.update(moved)
            since = now
        elif now - since >= timeout:
            hung = 'no progress for %ss: %s' % (timeout, _describe(codes))
            LOG.warning('%s: %s', step, hung)
            return hung
        procs.fleet.sleep(procs.timing.poll_interval)


def _describe(codes: Codes) -> str:
    return ', '.join('%s %s' % (n, rs.describe(c))
                     for n, c in sorted(codes.items()))


def _suspects(procs: Procedures, ids: Sequence[str], default: Member
              ) -> tuple[Codes, list[str]]:
    """The codes now and the stuck responders: those the codes show,
    else every node but ``default``."""
    codes = procs._codes(ids)
    stuck = stuck_responders(codes, sender=default.id)
    LOG.warning('hung merge: %s; suspects %s', _describe(codes),
                ', '.join(stuck))
    return codes, stuck


def _abort_order(codes: Codes, candidates: Sequence[Member],
                 stuck: Sequence[str]) -> list[Member]:
    """Where to send ABORTMERGE, best first: a node neither suspect nor
    in Doing, then one not suspect (on the real ring a hung joining node
    in Doing took it), then a suspect. Sent to the stuck node it does
    nothing, and which node that is the codes do not always tell
    (doc/ring-procedures.md §8): the status decides, see ``_abort``."""
    order: list[Member] = []
    for fits in (lambda m: m.id not in stuck
                 and _operate(codes.get(m.id)) != _DOING,
                 lambda m: m.id not in stuck,
                 lambda m: True):
        first = next((m for m in candidates if fits(m) and m not in order),
                     None)
        if first is not None:
            order.append(first)
    return order


def _abort(procs: Procedures, why: str, order: Sequence[Member],
           ids: Sequence[str], expected: Expected,
           leaving: Sequence[Member]) -> Member:
    """ABORTMERGE via the first node of ``order`` after which every node
    is Pending again within ``abort_timeout``; that node is returned (it
    answers, so the next MERGE goes through it)."""
    pending = {n: PENDINGS for n in expected}
    for via in order:
        step = '%s: merge: abort via %s' % (why, via.id)
        try:
            procs.judged(step, via.id, 'abort_merge', ids,
                         lambda codes: settled(codes, pending))
        except GuestCallError as exc:
            LOG.warning('%s', exc)
            continue
        if procs._settles(step + ': settles', pending,
                          procs.timing.abort_timeout):
            _restore_leavers(procs, why, via, leaving)
            return via
        LOG.warning('%s changed nothing; trying another node', step)
    raise StepTimeout('%s: merge: abort' % why, 'no node took ABORTMERGE '
                      '(tried %s): %s' % (', '.join(m.id for m in order),
                                          _describe(procs._codes(ids))))


def _restore_leavers(procs: Procedures, why: str, via: Member,
                     leaving: Sequence[Member]) -> None:
    """ABORTMERGE turns [DELETE][Pending] into [n/a][Pending]: re-send
    SERVICEOUT before the next MERGE."""
    if not leaving:
        return
    codes = procs._codes([m.id for m in leaving])
    lost = [m for m in leaving if codes[m.id] != rs.DELETE_PENDING]
    if lost:
        procs.wait_view_quiet('%s: %s sees the merge aborted' % (why, via.id),
                              via, frozenset({rs.DOING_NIBBLE,
                                              rs.DONE_NIBBLE}))
    for m in lost:
        procs._service_out(why, via, m)
