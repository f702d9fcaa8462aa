"""Request routing of a chmpx (normally the slave) to k2hdkc servers.

Why: reproduces the read/write delivery rules that decide which keys a
client can see (doc/ring-procedures.md §1): reads go to the primary and
fall back to a replica only when the primary is not servicing; writes go
to every servicing copy; subkey list changes reach the primary only
(upstream does not replicate them, doc/ring-procedures.md §10).
"""

from __future__ import annotations

import time

from tests.standins.dataplane import common

READ_OPS = {'get', 'casget'}
PRIMARY_ONLY_OPS = {'addsub', 'rmsub'}
NORESTYPE = 'DKC_RES_NORESTYPE - DKC_RES_SUBCODE_NORESTYPE'


def route(proc, msg: dict) -> dict:
    key = common.s2b(msg.get('key', ''))
    with proc.lock:
        ring = proc.ring
        idents = ring.targets(key)
        live = [i for i in idents if ring.states[i].servicing]
        nodes = {n.ident: n for n in proc.conf.servers}
    if not live:
        return {'err': NORESTYPE}
    op = msg.get('op')
    if op in READ_OPS:
        targets = live[:1]
    elif op in PRIMARY_ONLY_OPS:
        targets = live[:1]
    else:
        targets = live
        msg = dict(msg, mtime=time.time_ns())
    first = None
    for ident in targets:
        reply = proc.call_peer(nodes[ident], {'op': 'data', 'req': msg},
                               30.0)
        if first is None:
            first = reply
    if not first or 'err' in first:
        return {'err': NORESTYPE}
    return first
