"""Which leavers of a shrink are live, dead or already out, and whether
the ring may be shrunk at all (doc/ring-procedures.md §4).

A shrink needs every member that stays up and healthy in every live
view; the leavers may be up, dead (a VM that is gone) or already out of
the ring. A remaining member that is still [Pending], merging or done is
accepted only when a leave is under way (a leaver [DELETE] or out of
the ring): that is a shrink that failed after its SERVICEOUT, which the
same request finishes.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
import dataclasses
from typing import Any

from trove_k2hdkc.cluster import ringstate as rs
from trove_k2hdkc.cluster.model import Member
from trove_k2hdkc.cluster.procedures import Procedures
from trove_k2hdkc.cluster.procedures import unhealthy

# A remaining member of a shrink that failed after its SERVICEOUT:
# restarted ([n/a][Pending]), merging, or merged.
_RESUMABLE = frozenset({rs.HEALTHY, rs.PENDING, 0x2021, rs.DONE})


@dataclasses.dataclass
class ShrinkPlan:
    """``live`` leavers are in the ring and up; ``dead`` ones are in the
    ring and down in every view; ``out`` left the ring already (``up``
    those of them still running). ``resume``: an earlier attempt got
    past SERVICEOUT, so the ring still has a merge to finish."""

    live: list[Member]
    dead: list[Member]
    out: list[Member]
    up: list[Member]
    resume: bool

    @property
    def touches_ring(self) -> bool:
        return bool(self.live or self.dead or self.resume)


def _classify(replies: Mapping[str, Mapping[str, Any]],
              leaving: Sequence[Member]) -> ShrinkPlan:
    plan = ShrinkPlan([], [], [], [], False)
    for m in leaving:
        seen = rs.seen_as(replies, m.id, m.ip)
        if seen and not any(rs.in_ring(c) for c in seen):
            plan.out.append(m)
            if any(c == rs.SERVICE_OUT_UP for c in seen):
                plan.up.append(m)
        elif rs.down_in_views(replies, m.id, m.ip):
            plan.dead.append(m)
        else:
            plan.live.append(m)
    return plan


def _under_way(replies: Mapping[str, Mapping[str, Any]],
               plan: ShrinkPlan) -> bool:
    """A leaver [DELETE] or already out: an earlier SERVICEOUT ran."""
    return bool(plan.out) or any(
        rs.action(c) == rs.ACTION_DELETE for m in plan.live + plan.dead
        for c in rs.seen_as(replies, m.id, m.ip))


def _judge(remaining: Sequence[Member], leaving: Sequence[Member],
           replies: Mapping[str, Mapping[str, Any]],
           silent: Mapping[str, str], known: bool = False
           ) -> tuple[ShrinkPlan, dict[str, str]]:
    plan = _classify(replies, leaving)
    under_way = known or _under_way(replies, plan)
    allowed = _RESUMABLE if under_way else frozenset({rs.HEALTHY})
    # every live view must show it as it shows itself: up, in the ring
    wrong = unhealthy(remaining, replies, silent, allowed, views=True)
    plan.resume = under_way and any(
        rs.self_code(replies[m.id]) != rs.HEALTHY for m in remaining
        if m.id in replies)
    return plan, wrong


def plan(procs: Procedures, remaining: Sequence[Member],
         leaving: Sequence[Member], under_way: bool = False) -> ShrinkPlan:
    """Wait up to ``status_timeout`` until the remaining members allow
    the shrink, and say what to do with each leaver; raise
    ``StepTimeout`` naming each member in the way. Only the remaining
    members are asked: a dead leaver's guest never answers.
    ``under_way``: the caller's own shrink of these leavers got past
    SERVICEOUT (an ABORTMERGE may have taken their [DELETE] since)."""
    step = 'check ring health'
    procs._progress(step)
    result: list[ShrinkPlan] = []

    def judge(replies: Mapping[str, Any],
              silent: Mapping[str, str]) -> dict[str, str]:
        found, wrong = _judge(remaining, leaving, replies, silent,
                              under_way)
        result[:] = [found]
        return wrong
    procs.poll_views(step, [m.id for m in remaining],
                     procs.timing.status_timeout, judge,
                     summary='not every remaining node is healthy (0x21)')
    return result[0]
