"""Why a ring procedure stopped: the step, and what was seen there.

Its own module so that ``procedures`` and ``watchdog`` both raise them
without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trove_k2hdkc.exceptions import K2hdkcError


class ProcedureError(K2hdkcError):
    """A ring procedure stopped; ``step`` says where."""

    def __init__(self, step: str, detail: str) -> None:
        self.step = step
        super().__init__('%s: %s' % (step, detail))


class StepTimeout(ProcedureError):
    """A status wait ran past its deadline, or a merge hung for good."""


class GuestCallError(ProcedureError):
    """One or more guests failed an RPC; ``failures`` maps node to text,
    ``results`` holds the replies of the nodes that did answer."""

    def __init__(self, step: str, failures: Mapping[str, str],
                 results: Mapping[str, Any] | None = None) -> None:
        self.failures = dict(failures)
        self.results = dict(results or {})
        super().__init__(step, '; '.join(
            '%s: %s' % item for item in sorted(self.failures.items())))


class LeaverLost(ProcedureError):
    """Leavers of a shrink lost on their way out: their guests give no
    status and every view that answered shows their chmpx down (a VM
    gone). ``members`` are their ids (doc/ring-procedures.md §4)."""

    def __init__(self, step: str, members: list[str]) -> None:
        self.members = list(members)
        super().__init__(step, '%s lost on the way out: no answer, and '
                         'every live view shows it down'
                         % ', '.join(self.members))
