"""The ring procedures of doc/ring-procedures.md, as pure code.

Which guest gets which call in which order, and which CHMPX status to
wait for, lives here (and in ``watchdog`` for hung merges) and nowhere
else; the Trove glue only supplies a ``Fleet`` (RPC to guests, parallel
where the plan says so, and a clock).
K2HR3 changes are the caller's: it adds hosts before ``grow`` and removes
them between ``shrink_ring`` and ``shrink_finish``.

Every wait has a deadline and raises ``StepTimeout`` naming the step and
the codes last seen, so a failed procedure never looks like success.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
import functools
from typing import Any

from oslo_log import log as logging

from trove_k2hdkc.cluster import ringstate as rs
from trove_k2hdkc.cluster import watchdog
from trove_k2hdkc.cluster.errors import GuestCallError
from trove_k2hdkc.cluster.errors import LeaverLost
from trove_k2hdkc.cluster.errors import ProcedureError
from trove_k2hdkc.cluster.errors import StepTimeout
from trove_k2hdkc.cluster.model import Fleet
from trove_k2hdkc.cluster.model import Member
from trove_k2hdkc.cluster.model import Timing
from trove_k2hdkc.k2hr3.access import NodeAccess

LOG = logging.getLogger(__name__)

# Progress texts that bracket the read/write outage of a ring merge
# (doc/ring-procedures.md §7); the taskmanager shows it in the cluster task.
OUTAGE_START = 'outage-start: reads and writes fail until the merge completes'
OUTAGE_END = 'outage-end: the ring serves again'


def _ids(members: Sequence[Member]) -> list[str]:
    return [m.id for m in members]


def _expect(members: Sequence[Member],
            *codes: int) -> dict[str, frozenset[int]]:
    return {m.id: frozenset(codes) for m in members}


MemberHook = Callable[[Member], None]

_DEAD_LEAVING = frozenset({rs.DOWN_DELETE_PENDING, rs.DOWN_DELETE_DONE,
                           rs.SERVICE_OUT_DOWN, None})
DEAD_TEXT = ('is down (every peer shows it [SERVICE IN][DOWN]): a dead '
             'member leaves with openstack database cluster shrink of it '
             '(with any other leaver), and a grow afterwards replaces it')


def unanswered(member: Member, replies: Mapping[str, Any],
               silent: Mapping[str, str]) -> str:
    """Why ``member`` gave no status: dead when every view that
    answered shows it down (doc/ring-procedures.md §4), else the RPC's
    error."""
    if rs.down_in_views(replies, member.id, member.ip):
        return DEAD_TEXT
    return 'no answer: %s' % silent.get(member.id, 'no reply')


def unhealthy(members: Sequence[Member], replies: Mapping[str, Any],
              silent: Mapping[str, str],
              allowed: frozenset[int] = frozenset({rs.HEALTHY}), *,
              views: bool = False) -> dict[str, str]:
    """Each member whose own status is not in ``allowed`` (or, with
    ``views``, that a live peer sees otherwise) -> what it is instead;
    one that gave no status is described by ``unanswered``."""
    wrong = {}
    for m in members:
        if m.id not in replies:
            wrong[m.id] = unanswered(m, replies, silent)
            continue
        code = rs.self_code(replies[m.id])
        if code not in allowed:
            wrong[m.id] = rs.describe(code)
            continue
        others = [c for c in rs.seen_as(replies, m.id, m.ip)
                  if c not in allowed] if views else []
        if others:
            wrong[m.id] = 'seen as %s' % '/'.join(
                sorted(set(map(rs.describe, others))))
    return wrong


def _nothing(member: Member) -> None:
    pass


class Procedures:
    """Bootstrap, grow, shrink, purge and roll a ring through a
    ``Fleet``."""

    def __init__(self, fleet: Fleet, *, server_ctlport: int,
                 timing: Timing | None = None,
                 progress: Callable[[str], None] | None = None,
                 outage: Callable[[bool], None] | None = None) -> None:
        """``progress`` hears each step; ``outage`` hears that the
        ring's read/write outage starts (True) or ends (False), and
        without it ``progress`` hears ``OUTAGE_START``/``OUTAGE_END``."""
        self.fleet = fleet
        self.server_ctlport = server_ctlport
        self.timing = timing or Timing()
        self._progress = progress or (lambda text: None)
        self._outage = outage or (lambda started: self._progress(
            OUTAGE_START if started else OUTAGE_END))

    def outage(self, started: bool) -> None:
        """The merge's outage starts or ends (doc/ring-procedures.md
        §7)."""
        self._outage(started)

    # -- building blocks ---------------------------------------------------

    def _all(self, step: str, nodes: Sequence[str], method: str,
             **kwargs: Any) -> dict[str, Any]:
        self._progress(step)
        try:
            return self.fleet.call_all(nodes, method, **kwargs)
        except GuestCallError as exc:
            # The fleet knows the method, the user needs the step.
            raise GuestCallError(step, exc.failures, exc.results) from exc

    def _one(self, step: str, node: str, method: str, **kwargs: Any) -> Any:
        self._progress(step)
        try:
            return self.fleet.call(node, method, **kwargs)
        except ProcedureError:
            raise
        except Exception as exc:
            raise GuestCallError(step, {node: _text(exc)}) from exc

    def judged(self, step: str, node: str, method: str,
               nodes: Sequence[str],
               took_effect: Callable[[Mapping[str, int | None]], bool]
               ) -> None:
        """A merge command whose failed RPC is judged by status: a late
        or lost reply (a guest RPC or control-port timeout while chmpx is
        busy merging) is no failure once the codes of ``nodes`` show the
        command took effect; otherwise, after ``status_timeout``, the
        RPC's own error is raised."""
        try:
            self._one(step, node, method)
            return
        except GuestCallError as exc:
            error = exc
        LOG.warning('%s; judging by the ring status', error)
        deadline = self.fleet.monotonic() + self.timing.status_timeout
        while not took_effect(self._codes(nodes)):
            if self.fleet.monotonic() >= deadline:
                raise error
            self.fleet.sleep(self.timing.poll_interval)
        LOG.info('%s: took effect although %s gave no reply', step, node)

    def _comp_merge(self, why: str, via: Member,
                    members: Sequence[Member]) -> None:
        """COMPMERGE, judged by status: it took effect once no node is
        in [Done] any more."""
        self.wait_view_quiet('%s: %s sees the merge done' % (why, via.id),
                             via, frozenset({rs.DOING_NIBBLE}))
        self.judged('%s: complete merge' % why, via.id, 'complete_merge',
                    _ids(members), watchdog.merge_completed)

    def _complete(self, why: str, via: Member,
                  members: Sequence[Member]) -> None:
        """COMPMERGE and wait for every member 0x21."""
        self._comp_merge(why, via, members)
        self.wait_self('%s: ring healthy' % why,
                       _expect(members, rs.HEALTHY))

    def _merge_back(self, why: str, member: Member,
                    members: Sequence[Member]) -> None:
        """One node in [n/a][Pending] back to 0x21 among healthy peers
        (purge, rejoin after a restart): watched MERGE via that node,
        COMPMERGE, every member healthy (doc/ring-procedures.md §5, §6)."""
        others = [m for m in members if m.id != member.id]
        watchdog.merge(self, why, member, others,
                       {member.id: frozenset({rs.DONE})})
        self._complete(why, member, members)

    def _statuses(self, nodes: Sequence[str]
                  ) -> tuple[dict[str, Any], dict[str, str]]:
        """``node_status`` replies, and why the silent nodes gave none:
        a guest that misses one poll is not yet a failure."""
        try:
            return self.fleet.call_all(nodes, 'node_status'), {}
        except GuestCallError as exc:
            return exc.results, exc.failures

    def _codes(self, nodes: Sequence[str]) -> dict[str, int | None]:
        """Own status code per node; None when it did not say."""
        replies, _ = self._statuses(nodes)
        return rs.codes_in(replies, nodes)

    def lost(self, remaining: Sequence[Member],
             leaving: Sequence[Member]) -> list[Member]:
        """The leavers lost now (``ringstate.lost_leavers``). A leaver
        whose guest is silent while a view still shows it up is waited
        for, up to ``status_timeout``: chmpx notices a lost peer a
        little later."""
        deadline = self.fleet.monotonic() + self.timing.status_timeout
        while True:
            replies, _ = self._statuses(_ids(remaining) + _ids(leaving))
            lost = rs.lost_leavers(replies, leaving)
            unsure = [m for m in leaving
                      if m.id not in replies and m.id not in lost]
            if not unsure or self.fleet.monotonic() >= deadline:
                return [m for m in leaving if m.id in lost]
            self.fleet.sleep(self.timing.poll_interval)

    def _poll(self, step: str, nodes: Sequence[str], timeout: float,
              check: Callable[[str, Mapping[str, Any]], str | None],
              summary: str = 'gave up') -> None:
        """Poll ``node_status`` on ``nodes`` until ``check`` returns None
        for each (it returns a description of what is still wrong). A
        node that does not answer is "not yet" until the deadline."""
        def judge(replies: Mapping[str, Any],
                  silent: Mapping[str, str]) -> dict[str, str]:
            wrong = {}
            for node in nodes:
                if node not in replies:
                    wrong[node] = 'no answer: %s' % silent.get(
                        node, 'no reply')
                    continue
                try:
                    problem = check(node, replies[node])
                except rs.StatusShapeError as exc:
                    raise ProcedureError(step, '%s: %s' % (node, exc)
                                         ) from exc
                if problem is not None:
                    wrong[node] = problem
            return wrong
        self.poll_views(step, nodes, timeout, judge, summary)

    def poll_views(self, step: str, nodes: Sequence[str], timeout: float,
                   judge: Callable[[Mapping[str, Any], Mapping[str, str]],
                                   Mapping[str, str]],
                   summary: str = 'gave up') -> None:
        """Poll ``node_status`` on ``nodes`` until ``judge(replies,
        silent)`` finds nothing wrong (it maps a node to what is wrong
        with it, judging all the replies together)."""
        deadline = self.fleet.monotonic() + timeout
        while True:
            replies, silent = self._statuses(nodes)
            wrong = judge(replies, silent)
            if not wrong:
                return
            if self.fleet.monotonic() >= deadline:
                raise StepTimeout(step, '%s after %ss: %s' % (
                    summary, timeout, ', '.join('%s %s' % i for i in sorted(
                        wrong.items()))))
            self.fleet.sleep(self.timing.poll_interval)

    def wait_self(self, step: str, expected: Mapping[str, frozenset[int]],
                  timeout: float | None = None) -> None:
        """Wait until every node's own status is one of its codes."""
        def check(node: str, reply: Mapping[str, Any]) -> str | None:
            code = rs.self_code(reply)
            if code in expected[node]:
                return None
            return 'is %s, want %s' % (rs.describe(code), '/'.join(
                rs.describe(c) for c in sorted(expected[node])))
        self._poll(step, list(expected), timeout or self.timing.status_timeout,
                   check)

    def wait_ring(self, step: str, observers: Sequence[Member],
                  targets: Sequence[Member], codes: frozenset[int | None],
                  timeout: float | None = None) -> None:
        """Wait until every observer's ALLSTATUS shows each target with
        one of ``codes`` (None in ``codes`` = not listed)."""
        def check(node: str, reply: Mapping[str, Any]) -> str | None:
            bad = []
            for t in targets:
                code = rs.ring_code(reply, t.id, t.ip)
                if code not in codes:
                    bad.append('%s as %s' % (t.id, rs.describe(code)))
            return ('sees ' + ', '.join(bad)) if bad else None
        self._poll(step, _ids(observers),
                   timeout or self.timing.status_timeout, check)

    def wait_view_quiet(self, step: str, via: Member,
                        busy: frozenset[int]) -> None:
        """Until ``via``'s own ring view shows no node whose OPERATE
        nibble is in ``busy``. Real chmpx judges SERVICEOUT ("server is
        operating now") and COMPMERGE ("some servers could not be
        changed") by that view, and it lags the nodes' own status after
        a MERGE or ABORTMERGE (doc/ring-procedures.md §8)."""
        def check(node: str, reply: Mapping[str, Any]) -> str | None:
            seen = [c for c in rs.ring_codes(reply) if rs.operate(c) in busy]
            return ('sees %s' % ', '.join(map(rs.describe, seen))
                    if seen else None)
        self._poll(step, [via.id], self.timing.status_timeout, check)

    def _settles(self, step: str, expected: Mapping[str, frozenset[int]],
                 timeout: float) -> bool:
        """``wait_self`` that reports a timeout instead of raising it."""
        try:
            self.wait_self(step, expected, timeout)
        except StepTimeout as exc:
            LOG.warning('%s', exc)
            return False
        return True

    def require_healthy(self, members: Sequence[Member]) -> None:
        """Precondition of every topology change: all nodes 0x21 within
        ``status_timeout`` (a guest may be briefly unreachable). A member
        whose peers all show it [SERVICE IN][DOWN] is dead, and the
        message says how it leaves (doc/ring-procedures.md §4)."""
        step = 'check ring health'
        self._progress(step)

        self.poll_views(step, _ids(members), self.timing.status_timeout,
                        functools.partial(unhealthy, members),
                        summary='not every node is healthy (0x21)')

    def _restart_each(self, members: Sequence[Member], why: str) -> None:
        """doc/ring-procedures.md §3 step 4: one node at a time into
        [n/a][Pending]."""
        for m in members:
            self._one('%s: restart k2hdkc on %s' % (why, m.id), m.id,
                      'restart_k2hdkc')
            self.wait_self('%s: %s to Pending' % (why, m.id),
                           {m.id: frozenset({rs.PENDING})})

    def _service_out(self, why: str, via: Member, leaver: Member,
                     observers: Sequence[Member] = ()) -> None:
        """SERVICEOUT of a live leaver via a remaining member, until the
        leaver shows [DELETE][Pending]; ``LeaverLost`` as soon as it is
        lost instead (its guest silent, every view of ``via`` and the
        ``observers`` showing it down)."""
        self._one('%s: service out %s' % (why, leaver.id), via.id,
                  'service_out', server=leaver.ip,
                  ctlport=self.server_ctlport, custom_id_seed=leaver.id)
        step = '%s: %s to [DELETE][Pending]' % (why, leaver.id)
        watchers = [m.id for m in [via, *observers] if m.id != leaver.id]

        def judge(replies: Mapping[str, Any],
                  silent: Mapping[str, str]) -> dict[str, str]:
            lost = rs.lost_leavers(replies, [leaver])
            if lost:
                raise LeaverLost(step, lost)
            if leaver.id not in replies:
                return {leaver.id: 'no answer: %s' % silent.get(
                    leaver.id, 'no reply')}
            code = rs.self_code(replies[leaver.id])
            if code == rs.DELETE_PENDING:
                return {}
            return {leaver.id: 'is %s, want %s' % (
                rs.describe(code), rs.describe(rs.DELETE_PENDING))}
        self.poll_views(step, list(dict.fromkeys(watchers)) + [leaver.id],
                        self.timing.status_timeout, judge)

    def _service_out_dead(self, why: str, remaining: Sequence[Member],
                          leaver: Member) -> None:
        """doc/ring-procedures.md §4 ("A dead leaver", step 1): the live
        peer's chmpx takes the down server to [DELETE][Pending] itself;
        it keeps its base hash (reads of its range go to replicas) until
        COMPMERGE."""
        self._one('%s: service out dead %s' % (why, leaver.id),
                  remaining[0].id, 'service_out', server=leaver.ip,
                  ctlport=self.server_ctlport, custom_id_seed=leaver.id)
        self.wait_ring('%s: dead %s to [DELETE][Pending]' % (why, leaver.id),
                       remaining, [leaver], _DEAD_LEAVING)

    # -- procedures --------------------------------------------------------

    def bootstrap(self, members: Sequence[Member], access: NodeAccess,
                  restore: Mapping[str, dict[str, Any]] | None = None
                  ) -> None:
        """doc/ring-procedures.md §2: K2HR3 already lists every member.
        ``restore``: member id -> the backup it loads before its first
        start (a cluster restored from a set, doc/backup.md §6)."""
        why, ids = 'bootstrap', _ids(members)
        self._all('bootstrap: configure nodes', ids, 'configure_node',
                  **access.kwargs())
        if restore:
            self._restore(members, restore)
        self._all('bootstrap: start nodes', ids, 'start_node')
        self.wait_self('bootstrap: nodes up',
                       _expect(members, rs.SERVICE_OUT_UP))
        for m in members:
            self._one('bootstrap: service in %s' % m.id, m.id, 'service_in')
        self.wait_self('bootstrap: nodes [ADD][Pending]',
                       _expect(members, rs.ADD_PENDING))
        watchdog.merge(self, why, members[0], members[1:],
                       _expect(members, rs.ADD_DONE))
        self._complete(why, members[0], members)

    def _restore(self, members: Sequence[Member],
                 backups: Mapping[str, dict[str, Any]]) -> None:
        """Every member loads its own backup, one after another (the
        VMs share the Swift link); every one that failed is named."""
        missing = [m.id for m in members if m.id not in backups]
        if missing:
            raise ProcedureError('bootstrap: restore nodes',
                                 'no backup for %s' % ', '.join(missing))
        self._progress('bootstrap: restore nodes')
        failures, results = {}, {}
        for m in members:
            try:
                results[m.id] = self.fleet.call(
                    m.id, 'restore_node', backup_info=backups[m.id])
            except Exception as exc:
                failures[m.id] = _text(exc)
        if failures:
            raise GuestCallError('bootstrap: restore nodes', failures,
                                 results)

    def grow(self, existing: Sequence[Member], new: Sequence[Member],
             access: NodeAccess,
             joining: Callable[[], None] = lambda: None) -> None:
        """doc/ring-procedures.md §3: K2HR3 already lists the new nodes;
        ``existing`` is healthy (``require_healthy``). Until the first
        SERVICEIN the ring's membership is unchanged (existing members
        only list the new ones as down, new ones are up outside the ring),
        so a caller can undo everything before ``joining`` is called."""
        why = 'grow'
        self._all('grow: refresh config', _ids(existing), 'refresh_config')
        self.wait_ring('grow: new nodes listed', existing, new,
                       frozenset({rs.SERVICE_OUT_DOWN}))
        self._all('grow: configure new nodes', _ids(new), 'configure_node',
                  **access.kwargs())
        self._all('grow: start new nodes', _ids(new), 'start_node')
        self.wait_self('grow: new nodes up', _expect(new, rs.SERVICE_OUT_UP))
        joining()
        for m in new:
            self._one('grow: service in %s' % m.id, m.id, 'service_in')
        self.wait_self('grow: new nodes [ADD][Pending]',
                       _expect(new, rs.ADD_PENDING))
        self.outage(True)
        self._restart_each(existing, why)
        expected = _expect(existing, rs.DONE)
        expected.update(_expect(new, rs.ADD_DONE))
        watchdog.merge(self, why, existing[0],
                       list(existing[1:]) + list(new), expected)
        everyone = list(existing) + list(new)
        self._complete(why, existing[0], everyone)
        self.outage(False)
        self.purge(everyone)

    def best_effort(self, step: str, nodes: Sequence[str],
                    method: str) -> None:
        """``method`` on ``nodes`` while undoing: a node that fails is
        reported, the others go on."""
        try:
            self._all(step, nodes, method)
        except GuestCallError as exc:
            LOG.warning('%s', exc)

    def shrink_ring(self, remaining: Sequence[Member],
                    leaving: Sequence[Member],
                    dead: Sequence[Member] = ()) -> list[Member]:
        """doc/ring-procedures.md §4 steps 1-5: the leavers end SERVICE OUT
        and stopped; ``dead`` leavers ("A dead leaver") are taken out by
        a live peer and take no part in the merge. The first RPC
        (SERVICEOUT) is the first change to the ring. Run again after a
        failure it goes on from where the ring is ("Retrying a failed
        shrink"): leavers already [DELETE] are not sent SERVICEOUT again,
        members already [Pending] are not restarted, and once a MERGE ran
        nobody is.

        A live leaver lost on its way out ("A leaver lost on its way
        out": its guest silent and every view showing its chmpx down,
        a VM gone) is never waited for or aborted through: it becomes a
        dead leaver and the shrink goes on from the ring's state among
        the remaining members. Returns the leavers that ended dead or
        lost (nothing to stop on them)."""
        live, gone = list(leaving), list(dead)
        opened: list[bool] = []

        def outage() -> None:
            if not opened:
                opened.append(True)
                self.outage(True)
        while True:
            try:
                self._shrink_merge(remaining, live, gone, outage)
                break
            except ProcedureError as exc:
                lost = ([m for m in live if m.id in exc.members]
                        if isinstance(exc, LeaverLost)
                        else self.lost(remaining, live))
                if not lost:
                    raise
                LOG.warning('%s; leaving as dead members: %s', exc,
                            ', '.join(_ids(lost)))
                self._progress('shrink: %s lost: it leaves as a dead member'
                               % ', '.join(_ids(lost)))
                live = [m for m in live if m not in lost]
                gone += lost
        live, lost = self._left(remaining, live)
        gone += lost
        if gone:
            self.wait_ring('shrink: dead leavers out', remaining, gone,
                           frozenset({rs.SERVICE_OUT_DOWN, None}))
        self.outage(False)
        if live:
            self._all('shrink: stop leaving nodes', _ids(live), 'stop_node')
        return gone

    def _shrink_merge(self, remaining: Sequence[Member],
                      leaving: Sequence[Member], dead: Sequence[Member],
                      outage: Callable[[], None]) -> None:
        """``shrink_ring`` from the ring's state up to COMPMERGE."""
        why = 'shrink'
        codes = self._codes(_ids(remaining) + _ids(leaving))
        merged = any(rs.operate(c) in (rs.DOING_NIBBLE, rs.DONE_NIBBLE)
                     for c in codes.values())
        for m in leaving:
            if rs.action(codes[m.id]) == rs.ACTION_DELETE:
                continue
            if merged:
                raise ProcedureError(why, 'the ring is merging but %s is '
                                     'not leaving (%s); the shrink cannot '
                                     'go on' % (m.id,
                                                rs.describe(codes[m.id])))
            self._service_out(why, remaining[0], m, remaining)
        views, _ = self._statuses(_ids(remaining))
        for m in dead:
            if not all(rs.action(c) == rs.ACTION_DELETE
                       for c in rs.seen_as(views, m.id, m.ip)):
                self._service_out_dead(why, remaining, m)
        outage()
        if not merged:
            self._restart_each([m for m in remaining
                                if codes[m.id] == rs.HEALTHY], why)
        replies, _ = self._statuses(_ids(remaining) + _ids(leaving))
        lost = rs.lost_leavers(replies, leaving)
        if lost:
            raise LeaverLost('shrink: before the merge', lost)
        expected = _expect(remaining, rs.DONE)
        expected.update(_expect(leaving, rs.DELETE_DONE))
        watchdog.merge(self, why, remaining[0], remaining[1:], expected,
                       leaving)
        self._comp_merge(why, remaining[0], list(remaining) + list(leaving))

    def _left(self, remaining: Sequence[Member], leaving: Sequence[Member]
              ) -> tuple[list[Member], list[Member]]:
        """After COMPMERGE: until every remaining member is 0x21 and each
        leaver is out and up (0x11) or lost (then out and down); the
        leavers that are up, and those lost."""
        step = 'shrink: ring healthy without leavers'
        lost: list[str] = []

        def judge(replies: Mapping[str, Any],
                  silent: Mapping[str, str]) -> dict[str, str]:
            lost[:] = rs.lost_leavers(replies, leaving)
            wrong = {}
            want = [(m, rs.HEALTHY) for m in remaining] + [
                (m, rs.SERVICE_OUT_UP) for m in leaving if m.id not in lost]
            for m, code in want:
                if m.id not in replies:
                    wrong[m.id] = 'no answer: %s' % silent.get(
                        m.id, 'no reply')
                elif rs.self_code(replies[m.id]) != code:
                    wrong[m.id] = 'is %s, want %s' % (rs.describe(
                        rs.self_code(replies[m.id])), rs.describe(code))
            return wrong
        self.poll_views(step, _ids(remaining) + _ids(leaving),
                        self.timing.status_timeout, judge)
        return ([m for m in leaving if m.id not in lost],
                [m for m in leaving if m.id in lost])

    def shrink_finish(self, remaining: Sequence[Member],
                      leaving: Sequence[Member], purge: bool = True) -> None:
        """doc/ring-procedures.md §4 steps 6-7, after K2HR3 dropped the
        leavers; ``purge`` False when none of them was in the ring (no
        merge ran, so no member holds stale copies)."""
        self._all('shrink: refresh config', _ids(remaining),
                  'refresh_config')
        self.wait_ring('shrink: leavers unlisted', remaining, leaving,
                       frozenset({None}))
        if purge:
            self.purge(remaining)

    def purge(self, members: Sequence[Member]) -> None:
        """doc/ring-procedures.md §5: rolling, one node at a time.
        The guest restarts its k2hdkc on an empty K2HFILE
        (``purge_prepare``); the refill is a watched merge like any
        other; ``purge_finish`` drops the old file once it is healthy.
        A ring of one member is never purged: it would refill from no
        peer and keep nothing (every key gone with the file set aside),
        and a lone member owns every key, so no stale copy can come back
        from anywhere."""
        if len(members) < 2:
            self._progress('purge: skipped, %s is the only member (no peer '
                           'to refill it from)' % ', '.join(_ids(members)))
            return
        for m in members:
            why = 'purge %s' % m.id
            self._one('%s: prepare' % why, m.id, 'purge_prepare')
            self.wait_self('%s: to Pending' % why,
                           {m.id: frozenset({rs.PENDING})})
            self._merge_back(why, m, members)
            self._one('%s: finish' % why, m.id, 'purge_finish')

    def rolling_restart(self, members: Sequence[Member], *,
                        begin: MemberHook = _nothing,
                        end: MemberHook = _nothing) -> None:
        """Restart one member at a time; the guest's ``restart_node``
        returns at [Pending] and the merge back is watched here."""
        def restart(m: Member) -> None:
            self._one('rolling restart: restart %s' % m.id, m.id,
                      'restart_node')
            self._rejoin('rolling restart', m, members)
        self._rolling('rolling restart', members, restart, begin, end)

    def rolling_upgrade(self, members: Sequence[Member], version: str, *,
                        begin: MemberHook = _nothing,
                        end: MemberHook = _nothing) -> None:
        """Upgrade one member at a time, as Trove's single-instance
        upgrade does (``pre_upgrade``, then ``upgrade``); with
        ``rejoin: False`` the guest returns at [Pending] and the merge
        back is watched here."""
        def upgrade(m: Member) -> None:
            info = self._one('rolling upgrade: prepare %s' % m.id, m.id,
                             'pre_upgrade')
            info = dict(info or {}, datastore_version=version, rejoin=False)
            self._one('rolling upgrade: upgrade %s' % m.id, m.id,
                      'upgrade', upgrade_info=info)
            self._rejoin('rolling upgrade', m, members)
        self._rolling('rolling upgrade', members, upgrade, begin, end)

    def _rejoin(self, why: str, member: Member,
                members: Sequence[Member]) -> None:
        """After a whole-node restart: [Pending] needs the merge back,
        once every ring view shows the node up again (chmpx refuses a
        MERGE while it sees a member DOWN); a lone server bootstrapped
        itself and is healthy already."""
        back = frozenset({rs.PENDING, rs.HEALTHY})
        self.wait_self('%s: %s up' % (why, member.id), {member.id: back})
        self.wait_ring('%s: ring sees %s up' % (why, member.id), members,
                       [member], back)
        if self._codes([member.id])[member.id] == rs.PENDING:
            self._merge_back('%s %s' % (why, member.id), member, members)

    def _rolling(self, why: str, members: Sequence[Member],
                 action: MemberHook, begin: MemberHook,
                 end: MemberHook) -> None:
        """With REPLICA=1 only one node may be away at a time: each
        member is back at 0x21 in every ring view before the next one
        goes. ``begin``/``end`` bracket each member (task status)."""
        self.require_healthy(members)
        healthy = frozenset({rs.HEALTHY})
        for m in members:
            begin(m)
            action(m)
            self.wait_self('%s: %s back' % (why, m.id),
                           _expect(members, rs.HEALTHY))
            self.wait_ring('%s: ring sees %s back' % (why, m.id), members,
                           members, healthy)
            end(m)

def _text(exc: BaseException) -> str:
    return '%s: %s' % (type(exc).__name__, exc)
