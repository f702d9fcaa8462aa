"""The ring procedures of k2hdkc-scaling.md §4, as pure code.

Which guest gets which call in which order, and which CHMPX status to
wait for, lives here and nowhere else; the Trove glue only supplies a
``Fleet`` (RPC to guests, parallel where the plan says so, and a clock).
K2HR3 changes are the caller's: it adds hosts before ``grow`` and removes
them between ``shrink_ring`` and ``shrink_finish``.

Every wait has a deadline and raises ``StepTimeout`` naming the step and
the codes last seen, so a failed procedure never looks like success.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
import dataclasses
from typing import Any
from typing import Protocol

from oslo_log import log as logging

from trove_k2hdkc.cluster import ringstate as rs
from trove_k2hdkc.exceptions import K2hdkcError

LOG = logging.getLogger(__name__)


class ProcedureError(K2hdkcError):
    """A ring procedure stopped; ``step`` says where."""

    def __init__(self, step: str, detail: str) -> None:
        self.step = step
        super().__init__('%s: %s' % (step, detail))


class StepTimeout(ProcedureError):
    """A status wait ran past its deadline."""


class GuestCallError(ProcedureError):
    """One or more guests failed an RPC; ``failures`` maps node to text."""

    def __init__(self, step: str, failures: Mapping[str, str]) -> None:
        self.failures = dict(failures)
        super().__init__(step, '; '.join(
            '%s: %s' % item for item in sorted(self.failures.items())))


class Fleet(Protocol):
    """RPC to member guests. ``call_all`` runs the calls concurrently,
    waits for every one and raises ``GuestCallError`` if any failed."""

    def call(self, node: str, method: str, **kwargs: Any) -> Any: ...

    def call_all(self, nodes: Sequence[str], method: str,
                 **kwargs: Any) -> dict[str, Any]: ...

    def sleep(self, seconds: float) -> None: ...

    def monotonic(self) -> float: ...


@dataclasses.dataclass(frozen=True)
class Member:
    """A server node: Trove instance id (= cuk = CUSTOM_ID_SEED) and the
    IP that is its SVRNODE name."""

    id: str
    ip: str


@dataclasses.dataclass(frozen=True)
class NodeAccess:
    """What ``configure_node`` needs; the role token stays out of repr."""

    k2hr3_url: str
    resource_yrn: str
    role_yrn: str
    role_token: str = dataclasses.field(repr=False)

    def kwargs(self) -> dict[str, str]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Timing:
    """``status_timeout`` bounds each status wait; ``merge_timeout`` is
    the §4.8 watchdog before one ABORTMERGE + MERGE retry."""

    status_timeout: float = 120.0
    merge_timeout: float = 300.0
    poll_interval: float = 2.0


def _ids(members: Sequence[Member]) -> list[str]:
    return [m.id for m in members]


def _expect(members: Sequence[Member],
            *codes: int) -> dict[str, frozenset[int]]:
    return {m.id: frozenset(codes) for m in members}


class Procedures:
    """Bootstrap, grow, shrink and purge a ring through a ``Fleet``."""

    def __init__(self, fleet: Fleet, *, server_ctlport: int,
                 timing: Timing | None = None,
                 progress: Callable[[str], None] | None = None) -> None:
        self.fleet = fleet
        self.server_ctlport = server_ctlport
        self.timing = timing or Timing()
        self._progress = progress or (lambda text: None)

    # -- building blocks ---------------------------------------------------

    def _all(self, step: str, nodes: Sequence[str], method: str,
             **kwargs: Any) -> dict[str, Any]:
        self._progress(step)
        return self.fleet.call_all(nodes, method, **kwargs)

    def _one(self, step: str, node: str, method: str, **kwargs: Any) -> Any:
        self._progress(step)
        try:
            return self.fleet.call(node, method, **kwargs)
        except ProcedureError:
            raise
        except Exception as exc:
            raise GuestCallError(step, {node: _text(exc)}) from exc

    def _poll(self, step: str, nodes: Sequence[str], timeout: float,
              check: Callable[[str, Mapping[str, Any]], str | None]) -> None:
        """Poll ``node_status`` on ``nodes`` until ``check`` returns None
        for each (it returns a description of what is still wrong)."""
        deadline = self.fleet.monotonic() + timeout
        while True:
            replies = self.fleet.call_all(nodes, 'node_status')
            wrong = {}
            for node in nodes:
                try:
                    problem = check(node, replies[node])
                except rs.StatusShapeError as exc:
                    raise ProcedureError(step, '%s: %s' % (node, exc)) from exc
                if problem is not None:
                    wrong[node] = problem
            if not wrong:
                return
            if self.fleet.monotonic() >= deadline:
                raise StepTimeout(step, 'gave up after %ss; %s' % (
                    timeout, ', '.join('%s %s' % i for i in sorted(
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

    def require_healthy(self, members: Sequence[Member]) -> None:
        """Precondition of every topology change: all nodes 0x21 now."""
        replies = self._all('check ring health', _ids(members),
                            'node_status')
        bad = {n: rs.describe(rs.self_code(r)) for n, r in replies.items()
               if rs.self_code(r) != rs.HEALTHY}
        if bad:
            raise ProcedureError('check ring health', 'not every node is '
                                 'healthy (0x21): %s' % ', '.join(
                                     '%s %s' % i for i in sorted(bad.items())))

    def _restart_each(self, members: Sequence[Member], why: str) -> None:
        """§4.3 step 4: one node at a time into [n/a][Pending]."""
        for m in members:
            self._one('%s: restart k2hdkc on %s' % (why, m.id), m.id,
                      'restart_k2hdkc')
            self.wait_self('%s: %s to Pending' % (why, m.id),
                           {m.id: frozenset({rs.PENDING})})

    def _merge(self, why: str, via: Member, others: Sequence[Member],
               expected: dict[str, frozenset[int]],
               leaving: Sequence[Member] = ()) -> None:
        """MERGE, wait for Done, with the §4.8 watchdog: one ABORTMERGE
        (sent via another node) and one retry, then give up."""
        step = '%s: merge' % why
        self._one(step, via.id, 'merge')
        try:
            self.wait_self(step, expected, self.timing.merge_timeout)
            return
        except StepTimeout as exc:
            LOG.warning('%s hangs (%s); aborting and retrying once',
                        step, exc)
        helper = others[0] if others else via
        self._one(step + ': abort', helper.id, 'abort_merge')
        pending = {n: frozenset({rs.PENDING, rs.ADD_PENDING,
                                 rs.DELETE_PENDING}) for n in expected}
        self.wait_self(step + ': abort settles', pending)
        # ABORTMERGE turns [DELETE][Pending] into [n/a][Pending]: re-send.
        if leaving:
            codes = self.fleet.call_all(_ids(leaving), 'node_status')
            for m in leaving:
                if rs.self_code(codes[m.id]) != rs.DELETE_PENDING:
                    self._service_out(why, helper, m)
        self._one(step + ': retry', helper.id, 'merge')
        self.wait_self(step + ' (retry)', expected, self.timing.merge_timeout)

    def _service_out(self, why: str, via: Member, leaver: Member) -> None:
        self._one('%s: service out %s' % (why, leaver.id), via.id,
                  'service_out', server=leaver.ip,
                  ctlport=self.server_ctlport, custom_id_seed=leaver.id)
        self.wait_self('%s: %s to [DELETE][Pending]' % (why, leaver.id),
                       {leaver.id: frozenset({rs.DELETE_PENDING})})

    # -- procedures --------------------------------------------------------

    def bootstrap(self, members: Sequence[Member],
                  access: NodeAccess) -> None:
        """§4.2: K2HR3 already lists every member."""
        why, ids = 'bootstrap', _ids(members)
        self._all('bootstrap: configure nodes', ids, 'configure_node',
                  **access.kwargs())
        self._all('bootstrap: start nodes', ids, 'start_node')
        self.wait_self('bootstrap: nodes up',
                       _expect(members, rs.SERVICE_OUT_UP))
        for m in members:
            self._one('bootstrap: service in %s' % m.id, m.id, 'service_in')
        self.wait_self('bootstrap: nodes [ADD][Pending]',
                       _expect(members, rs.ADD_PENDING))
        self._merge(why, members[0], members[1:],
                    _expect(members, rs.ADD_DONE))
        self._one('bootstrap: complete merge', members[0].id,
                  'complete_merge')
        self.wait_self('bootstrap: ring healthy',
                       _expect(members, rs.HEALTHY))

    def grow(self, existing: Sequence[Member], new: Sequence[Member],
             access: NodeAccess) -> None:
        """§4.3: K2HR3 already lists the new nodes; ``existing`` is
        healthy (``require_healthy``)."""
        why = 'grow'
        self._all('grow: refresh config', _ids(existing), 'refresh_config')
        self.wait_ring('grow: new nodes listed', existing, new,
                       frozenset({rs.SERVICE_OUT_DOWN}))
        self._all('grow: configure new nodes', _ids(new), 'configure_node',
                  **access.kwargs())
        self._all('grow: start new nodes', _ids(new), 'start_node')
        self.wait_self('grow: new nodes up', _expect(new, rs.SERVICE_OUT_UP))
        for m in new:
            self._one('grow: service in %s' % m.id, m.id, 'service_in')
        self.wait_self('grow: new nodes [ADD][Pending]',
                       _expect(new, rs.ADD_PENDING))
        self._progress('outage-start: reads and writes fail until the '
                       'merge completes')
        self._restart_each(existing, why)
        expected = _expect(existing, rs.DONE)
        expected.update(_expect(new, rs.ADD_DONE))
        self._merge(why, existing[0], list(existing[1:]) + list(new),
                    expected)
        self._one('grow: complete merge', existing[0].id, 'complete_merge')
        everyone = list(existing) + list(new)
        self.wait_self('grow: ring healthy', _expect(everyone, rs.HEALTHY))
        self._progress('outage-end: ring serves again')
        self.purge(everyone)

    def shrink_ring(self, remaining: Sequence[Member],
                    leaving: Sequence[Member]) -> None:
        """§4.4 steps 1-5: the leavers end SERVICE OUT and stopped."""
        why = 'shrink'
        for m in leaving:
            self._service_out(why, remaining[0], m)
        self._progress('outage-start: reads and writes fail until the '
                       'merge completes')
        self._restart_each(remaining, why)
        expected = _expect(remaining, rs.DONE)
        expected.update(_expect(leaving, rs.DELETE_DONE))
        self._merge(why, remaining[0], remaining[1:], expected, leaving)
        self._one('shrink: complete merge', remaining[0].id,
                  'complete_merge')
        expected = _expect(remaining, rs.HEALTHY)
        expected.update(_expect(leaving, rs.SERVICE_OUT_UP))
        self.wait_self('shrink: ring healthy without leavers', expected)
        self._progress('outage-end: ring serves again')
        self._all('shrink: stop leaving nodes', _ids(leaving), 'stop_node')

    def shrink_finish(self, remaining: Sequence[Member],
                      leaving: Sequence[Member]) -> None:
        """§4.4 steps 6-7, after K2HR3 dropped the leavers."""
        self._all('shrink: refresh config', _ids(remaining),
                  'refresh_config')
        self.wait_ring('shrink: leavers unlisted', remaining, leaving,
                       frozenset({None}))
        self.purge(remaining)

    def purge(self, members: Sequence[Member]) -> None:
        """§4.5: rolling, one node at a time, each back to 0x21."""
        for m in members:
            self._one('purge %s' % m.id, m.id, 'purge_node')
            self.wait_self('purge: %s healthy' % m.id,
                           {m.id: frozenset({rs.HEALTHY})})
        self.wait_self('purge: ring healthy', _expect(members, rs.HEALTHY))


def _text(exc: BaseException) -> str:
    return '%s: %s' % (type(exc).__name__, exc)
