"""The ring-wide parameters a cluster was created with, as later
operations use them.

They are recorded in the cluster's K2HR3 parent resource at create and
read back (``ClusterRegistry.ring_settings``) by every later topology
change; the configuration only shapes new clusters (doc/k2hr3-layout.md
§1). The project's user can edit that record, so besides the type and
range checks of the read-back, the recorded ports are held against what
the running ring reports: a mismatch stops the operation instead of
reconfiguring the ring.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trove_k2hdkc.k2hr3.settings import ClusterSettings


def shrink_limit(ring: ClusterSettings) -> int:
    """At most max(1, REPLICA) members leave per shrink: the leavers are
    merge sources, and REPLICA neighbours cover them
    (doc/ring-procedures.md §4)."""
    return max(1, ring.replica)


def shrink_refusal(count: int, ring: ClusterSettings) -> str | None:
    """Why removing ``count`` members at once is refused, or None."""
    limit = shrink_limit(ring)
    if count <= limit:
        return None
    return ('Remove at most %d member(s) per shrink (the cluster was created '
            'with REPLICA = %d); split the request.' % (limit, ring.replica))


def ring_mismatches(replies: Mapping[str, Any],
                    ring: ClusterSettings) -> list[str]:
    """Each server a member's ALLSTATUS lists on other ports than
    ``ring`` records (``replies``: ``node_status`` per member)."""
    want = (ring.server_port, ring.server_ctlport)
    found = []
    for member, reply in sorted(replies.items()):
        entries = reply.get('ring') if isinstance(reply, Mapping) else None
        for entry in entries or ():
            if not isinstance(entry, Mapping):
                continue
            got = (entry.get('port'), entry.get('ctlport'))
            if got != want:
                found.append('%s lists server %s on port/ctlport %s/%s'
                             % (member, entry.get('name'), *got))
    return found
