"""Each member's own CHMPX ring state for ``cluster show``.

The state comes from the member's SELFSTATUS via the guest RPC
``node_status`` (doc/ring-procedures.md status table). All members are asked at
once and the whole lookup is bounded by ``RING_STATE_WAIT``: a view must
not hang for the RPC timeout because one guest is dead. A member that
did not answer in time gets the "no answer" entry; its greenthread is
left to end at its own RPC timeout rather than killed mid-call, so the
messaging layer always cleans up its reply waiter.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
import re
from typing import Any

import eventlet
from oslo_log import log as logging

from trove_k2hdkc.cluster import ringstate

LOG = logging.getLogger(__name__)

# Seconds the whole view waits for all members together. Well below
# Trove's agent_call_low_timeout (15 s by default): a dead guest costs a
# `cluster show` this long, never the full RPC timeout. A member's
# guest answers node_status from two local control-port reads.
RING_STATE_WAIT = 5.0

NOT_RUNNING = 'chmpx not running'
NO_CTLPORT = 'chmpx control port did not answer'
NO_ANSWER = 'no answer from the guest agent'
BUILDING = 'not asked: the member is still being built'
UNREADABLE = 'unreadable reply from the guest agent'

# The bracketed half of chmpx's '0x21(SAFE -> [SERVICE IN]...)'.
_TEXT_RE = re.compile(r'-> (\[.*\])\)$')


def entry(code: int | None, status: str) -> dict[str, Any]:
    return {'code': None if code is None else '0x%x' % code,
            'status': status}


def _fields_text(status: Mapping[str, Any]) -> str | None:
    parts = [status.get(key) for key in
             ('ring', 'live', 'action', 'operate')]
    suspend = status.get('suspend')
    if not all(isinstance(p, str) for p in parts) or \
            not isinstance(suspend, bool):
        return None
    parts.append('Suspend' if suspend else 'NoSuspend')
    return ''.join('[%s]' % p for p in parts)


def _status_text(status: Mapping[str, Any]) -> str | None:
    text = _fields_text(status)
    if text is None and isinstance(status.get('text'), str):
        match = _TEXT_RE.search(status['text'])
        text = match.group(1) if match else None
    return text


def ring_state(reply: Any) -> dict[str, Any]:
    """The ``ring_state`` entry for one ``node_status`` reply."""
    if not isinstance(reply, Mapping):
        return entry(None, UNREADABLE)
    me = reply.get('self')
    if me is None:
        runtime = reply.get('runtime')
        chmpx_up = isinstance(runtime, Mapping) and runtime.get('chmpx')
        return entry(None, NO_CTLPORT if chmpx_up else NOT_RUNNING)
    try:
        code = ringstate.self_code(reply)
    except ringstate.StatusShapeError:
        return entry(None, UNREADABLE)
    status = me.get('status') if isinstance(me, Mapping) else None
    text = _status_text(status) if isinstance(status, Mapping) else None
    return entry(code, text or UNREADABLE)


def _ask(ask: Callable[[str], Any], member: str) -> dict[str, Any]:
    # Any failure (GuestTimeout, GuestError, client setup) is the same
    # fact for the user: the guest gave no answer. Trove's _call logs
    # the cause; only the id is logged here.
    try:
        reply = ask(member)
    except Exception:
        LOG.debug('No node_status from member %s.', member)
        return entry(None, NO_ANSWER)
    return ring_state(reply)


def collect(members: Sequence[str], ask: Callable[[str], Any],
            wait: float | None = None) -> dict[str, dict[str, Any]]:
    """``ring_state`` entry per member id; ``ask(id)`` returns that
    member's ``node_status`` reply. Returns within ``wait`` seconds
    (``RING_STATE_WAIT`` by default) plus scheduling."""
    if not members:
        return {}
    limit = RING_STATE_WAIT if wait is None else wait
    answers: dict[str, dict[str, Any]] = {}

    def one(member: str) -> None:
        answers[member] = _ask(ask, member)

    pool = eventlet.GreenPool(len(members))
    for member in members:
        pool.spawn_n(one, member)
    with eventlet.Timeout(limit, False):
        pool.waitall()
    return {member: answers.get(member, entry(None, NO_ANSWER))
            for member in members}
