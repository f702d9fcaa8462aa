"""Reference counters of resources: what keeps a resource from deletion.

The 2.0.3 server counts, per resource, the policies that list it, and
refuses to delete a resource whose counter is not 0 (third capture D1).
It counts only resources that exist at the time: a policy listing a
missing resource counts nothing, so deleting that policy after the
resource was created counts it below 0, which the server's unsigned
counter reads as "referenced" until another policy counts it back up
(also captured).
"""

from __future__ import annotations

from collections.abc import Iterable

from tests.standins.k2hr3 import yrn
from tests.standins.k2hr3.store import State


def _node(state: State, resource_yrn: str) -> dict | None:
    """The resource a policy entry names; the server keys the counter by
    the entry string itself, so only the exact full YRN counts."""
    parsed = yrn.parse(resource_yrn) if isinstance(resource_yrn, str) \
        else None
    if parsed is None or parsed[1] != 'resource' or yrn.make(
            *parsed) != resource_yrn:
        return None
    return state.tenant(parsed[0]).resources.get(parsed[2])


def _count(state: State, resource_yrns: Iterable[str], step: int) -> None:
    for name in resource_yrns:
        node = _node(state, name)
        if node is not None:
            node['reference'] += step


def policy_listed(state: State, old: list[str], new: list[str]) -> None:
    """A policy's resource list changed from ``old`` to ``new``."""
    _count(state, [r for r in old if r not in new], -1)
    _count(state, [r for r in new if r not in old], +1)


def is_referenced(node: dict | None) -> bool:
    return node is not None and node['reference'] != 0
