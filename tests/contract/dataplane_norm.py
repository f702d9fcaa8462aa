"""Normalisation of chmpx control-port replies for capture comparison.

Why: a stand-in reply and a capture may differ only in values that
legitimately differ between runs (ports, host names, ids, times,
pointers, pids, traffic counters); everything else must match bytewise.
"""

from __future__ import annotations

import re

VOLATILE = {
    # SELFSTATUS / ALLSTATUS
    'Server Name', 'Internal ID', 'Port', 'Control Port', 'Last Update',
    'Port(socket)', 'Control Port(socket)', 'To Servers', 'From Slaves',
    'send count', 'receive count', 'total', 'minimum', 'maximum',
    # DUMP
    'Shared memory file path', 'K2HASH Object', 'pid', 'start_time',
    'base_msgid', 'chmpx_msgs', 'prev', 'next', 'same', 'msgid',
    'activated_msgs', 'free_msgs', 'last_msgid_chmpx',
    'last_msgid_activated', 'cfg_date', 'chmpxid', 'name', 'port',
    'ctlport', 'sock', 'last_status_time', 'chmpx_frees',
    'sock_free_count', 'sock_frees', 'last_chmpxid', 'total_sent_count',
    'total_received_count', 'total_body_bytes', 'min_body_bytes',
    'max_body_bytes', 'total_elapsed_time', 'min_elapsed_time',
    'max_elapsed_time', 'rel_chmpxmsgarea', 'client_pids', 'free_pids',
    'chmpx_free_count', 'chmpx_servers', 'chmpx_self', 'chmpx_base_srvs',
    'chmpx_pend_srvs', 'chmpx_slaves', 'Shared memory file Object',
    'Configuration object', 'Shared memory file fd',
}
LINE = re.compile(r'^(\s*)([^=]*?)(\s*=\s?)(.*)$')
IDLINE = re.compile(r'^(\s*\[\d+\] = )0x[0-9a-f]+$')


def normalise(text: str) -> list[str]:
    out = []
    for line in text.split('\n'):
        m = IDLINE.match(line)
        if m:
            out.append(m.group(1) + '<ID>')
            continue
        m = LINE.match(line)
        if m and m.group(2).strip() in VOLATILE:
            out.append(m.group(1) + m.group(2) + m.group(3) + '<X>')
        else:
            out.append(line)
    return out


def dump_parts(text: str) -> tuple[list[str], list[str]]:
    """DUMP without the slave chain (the capture lists peers' sockets)."""
    lines = normalise(text)
    head_end = next(i for i, ln in enumerate(lines)
                    if ln.strip().startswith('chmpx_slave_count'))
    tail_start = next(i for i, ln in enumerate(lines)
                      if ln.strip().startswith('chmpx_free_count'))
    return lines[:head_end], lines[tail_start:]
