"""``Fleet`` over Trove guest clients, concurrent with eventlet.

The taskmanager runs under eventlet, so "push to every member at once"
means one greenthread per guest RPC; ``call_all`` waits for all of them
and raises one ``GuestCallError`` that names every node that failed and
carries the replies of those that answered (status polls use them).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
import time
from typing import Any

import eventlet

from trove_k2hdkc.cluster.procedures import GuestCallError


class GuestFleet:
    """``guests`` maps instance id to a ``K2hdkcGuestAgentAPI``."""

    def __init__(self, guests: Mapping[str, Any], *,
                 sleep: Callable[[float], None] = eventlet.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.guests = dict(guests)
        self._sleep = sleep
        self._monotonic = monotonic

    def call(self, node: str, method: str, **kwargs: Any) -> Any:
        return getattr(self.guests[node], method)(**kwargs)

    def call_all(self, nodes: Sequence[str], method: str,
                 **kwargs: Any) -> dict[str, Any]:
        if not nodes:
            return {}
        pool = eventlet.GreenPool(len(nodes))
        threads = {node: pool.spawn(self._outcome, node, method, kwargs)
                   for node in nodes}
        results, failures = {}, {}
        for node, thread in threads.items():
            ok, value = thread.wait()
            if ok:
                results[node] = value
            else:
                failures[node] = value
        if failures:
            raise GuestCallError(method, failures, results)
        return results

    def _outcome(self, node: str, method: str,
                 kwargs: dict[str, Any]) -> tuple[bool, Any]:
        # Each failure is reported by call_all, never dropped.
        try:
            return True, self.call(node, method, **kwargs)
        except Exception as exc:
            return False, '%s: %s' % (type(exc).__name__, exc)

    def sleep(self, seconds: float) -> None:
        self._sleep(seconds)

    def monotonic(self) -> float:
        return self._monotonic()
