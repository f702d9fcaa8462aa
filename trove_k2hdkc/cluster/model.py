"""What the ring procedures work on: the members, the guests' RPC
(``Fleet``) and the time limits.

Its own module so that a module that only passes members around (the
K2HR3 ``registry``) need not import ``procedures`` and what it imports.
"""

from __future__ import annotations

from collections.abc import Sequence
import dataclasses
from typing import Any
from typing import Protocol


class Fleet(Protocol):
    """RPC to member guests. ``call_all`` runs the calls concurrently,
    waits for every one and raises ``GuestCallError`` (with the partial
    ``results``) if any failed."""

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
class Timing:
    """``status_timeout`` bounds each status wait; ``merge_timeout`` is
    how long a MERGE may go without any node's status changing before
    the watchdog calls it hung (doc/ring-procedures.md §8);
    ``abort_timeout`` how long an ABORTMERGE may take to show before
    another node is tried."""

    status_timeout: float = 120.0
    merge_timeout: float = 300.0
    abort_timeout: float = 30.0
    poll_interval: float = 2.0
