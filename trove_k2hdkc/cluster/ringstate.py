"""Read CHMPX status codes out of a guest's ``node_status()`` reply.

The guest reports SELFSTATUS as ``{'self': {'status': {'code': ...}}}`` and
ALLSTATUS as ``{'ring': [{'name', 'ctlport', 'custom_id_seed',
'status': {'code'}}, ...]}`` (see trove_k2hdkc.guest.service). Codes
may arrive as ints or ``'0x21'`` strings; both are accepted here so the
procedures compare plain ints.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from trove_k2hdkc.exceptions import K2hdkcError

# Status codes of doc/ring-procedures.md (LIVE|RING|ACTION|OPERATE|SUSPEND).
HEALTHY = 0x21
SERVICE_OUT_UP = 0x11
SERVICE_OUT_DOWN = 0x10
SERVICE_IN_DOWN = 0x20
SUSPENDED = 0x10021
PENDING = 0x1021
DONE = 0x3021
ADD_PENDING = 0x1121
ADD_DONE = 0x3121
DELETE_PENDING = 0x1221
DELETE_DONE = 0x3221
# A down ring member being taken out ([SERVICE IN][DOWN][DELETE]...).
DOWN_DELETE_PENDING = 0x1220
DOWN_DELETE_DONE = 0x3220
# The LIVE bit: [UP] (clear: [DOWN], the node's chmpx is gone).
LIVE_UP = 0x1
# The ACTION nibble of a leaving member ([DELETE]).
ACTION_DELETE = 0x2
# The OPERATE nibble: Pending 1, Doing 2, Done 3.
DOING_NIBBLE, DONE_NIBBLE = 0x2, 0x3


class StatusShapeError(K2hdkcError, ValueError):
    """A node_status reply without a readable status code."""


def as_code(value: Any) -> int:
    """An int status code from an int or a hex string."""
    if isinstance(value, bool):
        raise StatusShapeError('status code is a boolean')
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value, 0)
        except ValueError:
            pass
    raise StatusShapeError('unreadable status code %r' % (value,))


def _code_of(entry: Any) -> int:
    if not isinstance(entry, Mapping):
        raise StatusShapeError('status entry is not a mapping')
    status = entry.get('status')
    if isinstance(status, Mapping):
        return as_code(status.get('code'))
    return as_code(entry.get('code'))


def self_code(node_status: Mapping[str, Any]) -> int | None:
    """SELFSTATUS code of the node that answered; None when chmpx is
    not running or its control port did not answer (``self`` is None)."""
    me = node_status.get('self')
    return None if me is None else _code_of(me)


def ring_code(node_status: Mapping[str, Any], seed: str,
              name: str | None = None) -> int | None:
    """Code of the ring member with CUSTOM_ID_SEED ``seed`` (or SVRNODE
    name ``name``) as this node sees it; None when it is not listed."""
    for entry in node_status.get('ring') or ():
        if not isinstance(entry, Mapping):
            continue
        if (entry.get('custom_id_seed') == seed
                or (name is not None
                    and name in (entry.get('name'),
                                 entry.get('server_name')))):
            return _code_of(entry)
    return None


def operate(code: int | None) -> int | None:
    """The OPERATE nibble of ``code`` (None for None)."""
    return None if code is None else (code >> 12) & 0xF


def ring_codes(node_status: Mapping[str, Any]) -> list[int]:
    """Code of every ring member as this node sees it (its ALLSTATUS)."""
    return [_code_of(entry) for entry in node_status.get('ring') or ()]


def describe(code: int | None) -> str:
    return 'absent' if code is None else '0x%x' % code


def in_ring(code: int | None) -> bool:
    """SERVICE IN (up or down), whatever it is doing."""
    return code is not None and (code & 0xF0) == 0x20


def is_down(code: int | None) -> bool:
    """A ring member whose chmpx its peers lost ([SERVICE IN][DOWN])."""
    return in_ring(code) and code is not None and code & 0xF == 0


def action(code: int | None) -> int:
    """The ACTION nibble: 0 none, 1 [ADD], 2 [DELETE]."""
    return 0 if code is None else (code >> 8) & 0xF


def seen_as(replies: Mapping[str, Mapping[str, Any]], seed: str,
            name: str | None = None) -> list[int | None]:
    """The code of member ``seed`` in each reply's ring view."""
    return [ring_code(r, seed, name) for r in replies.values()]


def down_in_views(replies: Mapping[str, Mapping[str, Any]], seed: str,
                  name: str | None = None) -> bool:
    """Every view that answered shows the member [SERVICE IN][DOWN]:
    its chmpx is gone (a dead VM, doc/ring-procedures.md §4)."""
    seen = seen_as(replies, seed, name)
    return bool(seen) and all(is_down(c) for c in seen)


def codes_in(replies: Mapping[str, Any],
             nodes: Sequence[str]) -> dict[str, int | None]:
    """Own status code of each of ``nodes`` in ``node_status``
    ``replies``; None when it gave none."""
    codes: dict[str, int | None] = {}
    for node in nodes:
        try:
            codes[node] = self_code(replies[node])
        except (KeyError, StatusShapeError):
            codes[node] = None
    return codes


def lost_leavers(replies: Mapping[str, Any],
                 leaving: Sequence[Any]) -> list[str]:
    """The leavers lost on their way out (doc/ring-procedures.md §4): no
    status from their guest, and every view that answered and lists them
    shows their chmpx down (``[SERVICE IN][DOWN]`` with or without
    ``[DELETE]``, or ``[SERVICE OUT][DOWN]`` after COMPMERGE). A leaver
    whose guest answers, that some view still shows up, or that no view
    lists, is not."""
    lost = []
    for m in leaving:
        if m.id in replies:
            continue
        seen = [c for c in seen_as(replies, m.id, m.ip) if c is not None]
        if seen and all(not c & LIVE_UP for c in seen):
            lost.append(m.id)
    return lost
