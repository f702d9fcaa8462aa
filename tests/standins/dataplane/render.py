"""Text replies of the chmpx control port (SELFSTATUS, ALLSTATUS, DUMP).

Why: the layouts are copied field for field from the captures in
tests/data/reference/chmpx/control_port so that parsers written against
the real chmpx work unchanged against the stand-in.
"""

from __future__ import annotations

import dataclasses

from tests.standins.dataplane import status as st


@dataclasses.dataclass
class Row:
    """One chmpx as seen by the rendering node."""

    node: object  # ini.Node
    state: st.State
    base: int
    pending: int
    hostname: str
    chmpxid: int
    mode: str  # 'server' / 'slave'


@dataclasses.dataclass
class Snapshot:
    group: str
    me: Row
    servers: list
    slaves: list
    conf: object  # ini.Config
    pid: int
    start_time: int
    client_pids: list
    suspend_automerge: bool
    shm_path: str
    k2h_path: str


def _stats(prefix: str) -> list[str]:
    return [
        prefix + 'send count        = 0 count',
        prefix + 'receive count     = 0 count',
        prefix + 'total             = 0 bytes',
        prefix + 'minimum           = 0 bytes',
        prefix + 'maximum           = 0 bytes',
        prefix + 'total             = 0s 0ns',
        prefix + 'minimum           = 0s 0ns',
        prefix + 'maximum           = 0s 0ns',
    ]


def selfstatus(snap: Snapshot) -> str:
    me = snap.me
    conf = snap.conf
    node = me.node
    slave = me.mode == 'slave'
    up_servers = sum(1 for r in snap.servers if r.state.up)
    lines = [
        'Server Name               = %s' % me.hostname,
        'Internal ID               = 0x%x' % me.chmpxid,
        'RING Name                 = %s' % snap.group,
        'Mode                      = %s' % ('Slave' if slave else 'Server'),
        'Maximum MQ Count          = %d' % (conf.num('MAXMQSERVER', 1)
                                           + conf.num('MAXMQCLIENT', 8192)),
        'Maximum Queue / Chmpx MQ  = %d' % conf.num('MAXQPERSERVERMQ', 8),
        'Maximum Queue / Client MQ = %d' % conf.num('MAXQPERCLIENTMQ', 1),
        'Status                    = {',
        '    Server Status         = %s' % me.state.text(),
        '    Last Update           = %s' % st.last_update(me.state.last),
        '}',
        'Hash                      = {',
        '    Enable Hash Value     = %s' % st.hexhash(me.base),
        '    Pending Hash Value    = %s' % st.hexhash(me.pending),
        '}',
        'Connection                = {',
        '    Port(socket)          = %s' % ('-1(n/a)' if slave
                                            else '%d(12)' % node.port),
        '    Control Port(socket)  = %d(%d)' % (node.ctlport,
                                                12 if slave else 13),
        '    CUK                   = %s' % node.cuk,
        '    Custom ID Seed        = %s' % node.seed,
        '    Endpoints             = ',
        '    Control Endppoints    = ',
        '    Forward Peers         = ',
        '    Reverse Peers         = ',
        '    SSL Connection        = %s' % ('yes' if node.ssl else 'no'),
        '}',
        'Connection Count          = {',
        '    To Servers            = %d' % up_servers,
        '    From Slaves           = %d' % (0 if slave else len(snap.slaves)),
        '    On Control port       = 1',
        '}',
        'Stats                     = {',
        '    To(From) Servers      = {',
    ] + _stats('        ') + [
        '    }',
        '    To(From) Slaves       = {',
    ] + _stats('        ') + ['    }', '}']
    return '\n'.join(lines) + '\n'


def allstatus(snap: Snapshot) -> str:
    lines = ['RING Name              = %s' % snap.group]
    for num, row in enumerate(snap.servers, 1):
        node = row.node
        lines += [
            'No.%d' % num,
            '  Server Name          = %s' % row.hostname,
            '    Port               = %d' % node.port,
            '    Control Port       = %d' % node.ctlport,
            '    CUK                = %s' % node.cuk,
            '    Custom ID Seed     = %s' % node.seed,
            '    Endpoints          = ',
            '    Control Endppoints = ',
            '    Forward Peers      = ',
            '    Reverse Peers      = ',
            '    Use SSL            = %s' % ('yes' if node.ssl else 'no'),
            '    Server Status      = %s' % row.state.text(),
            '    Last Update        = %s' % st.last_update(row.state.last),
            '    Enable Hash Value  = %s' % st.hexhash(row.base),
            '    Pending Hash Value = %s' % st.hexhash(row.pending),
        ]
    return '\n'.join(lines) + '\n'


def _hashnum(value: int) -> str:
    value &= 0xffffffffffffffff
    return '0' if value == 0 else '0x%x' % value


def _chmpx(row: Row, ind: str, me: bool) -> list[str]:
    node = row.node
    slave = row.mode == 'slave'
    return [
        ind + 'chmpxid          = 0x%x' % row.chmpxid,
        ind + 'name             = %s' % row.hostname,
        ind + 'mode             = %s' % row.mode,
        ind + 'base_hash        = %s' % _hashnum(row.base),
        ind + 'pending_hash     = %s' % _hashnum(row.pending),
        ind + 'port             = %d' % (-1 if slave else node.port),
        ind + 'ctlport          = %d' % node.ctlport,
        ind + 'cuk              = %s' % node.cuk,
        ind + 'custom_seed      = %s' % node.seed,
        ind + 'endpoints        = ',
        ind + 'ctlendpoints     = ',
        ind + 'forward_peers    = ',
        ind + 'reverse_peers    = ',
        ind + 'is_ssl           = %s' % ('true' if node.ssl else 'false'),
        ind + 'verify_peer      = false',
        ind + 'is_ca_file       = false',
        ind + 'capath           = ',
        ind + 'server_cert      = ',
        ind + 'server_prikey    = ',
        ind + 'slave_cert       = ',
        ind + 'slave_prikey     = ',
        ind + 'sock             = %s' % ('-1' if me or not row.state.up
                                         else '20'),
        ind + 'ctlsock          = -1',
        ind + 'selfsock         = %s' % ('12' if me and not slave else '-1'),
        ind + 'selfctlsock      = %s' % (('12' if slave else '13') if me
                                         else '-1'),
        ind + 'last_status_time = %d' % st.stamp(row.state.last),
        ind + 'status           = %s' % row.state.words(),
    ]


def _msgs(pid: int, count: int, flag: str, base: int) -> list[str]:
    out = ['{']
    for i in range(count):
        out += ['  [%d] = {' % i,
                '    prev = %s' % ('0' if i == 0 else '0x69%04x' % i),
                '    next = %s' % ('0' if i == count - 1
                                   else '0x69%04x' % (i + 1)),
                '    msghead{',
                '      msgid  = 0x%x' % (base + count - 1 - i),
                '      pid    = %d' % pid,
                '      flag   = %s' % flag,
                '    }', '  }']
    return out + ['}']


def _chain(rows, me: Row | None) -> list[str]:
    out = ['  {']
    for i, row in enumerate(rows):
        out += ['    [%d] = {' % i,
                '      prev = %s' % ('0' if i == 0 else '0x%x' % (i * 64)),
                '      next = %s' % ('0' if i == len(rows) - 1
                                     else '0x%x' % ((i + 1) * 64)),
                '      same = 0',
                '      chmpx{']
        out += _chmpx(row, '        ', me is not None and row is me)
        out += ['      }', '    }']
    return out + ['  }']


def dump(snap: Snapshot) -> str:
    conf = snap.conf
    nchm = conf.num('MAXMQSERVER', 1)
    per = conf.num('MQPERATTACH', 1)
    maxmq = nchm + conf.num('MAXMQCLIENT', 8192)
    clients = snap.client_pids
    base = snap.me.chmpxid & ~0xffffff
    act = len(clients) * per
    sep = '=' * 74
    me_server = snap.me if snap.me.mode == 'server' else None
    lines = [
        sep,
        'Shared memory file path   = %s' % snap.shm_path,
        'Shared memory file size   = 7016952',
        'Shared memory file fd     = 5',
        'Shared memory file Object = 0x7f9016200000',
        'Configuration object      = 0x557b8ea5b7f0',
        'K2HASH Object             = %s' % snap.k2h_path,
        sep,
        'Shared memory file Object',
        '-' * 74,
        'CHMINFO version      = CHMINFO_VERSION 1.1',
        'CHMINFO size         = 34704',
        'pid                  = %d' % snap.pid,
        'start_time           = %d' % snap.start_time,
        'chmpxid_type         = %s' % conf.idtype.lower(),
        'is_random_deliver    = false',
        'automerge in conf    = %s' % ('yes' if conf.automerge else 'no'),
        'suspend automerge    = %s' % ('yes' if snap.suspend_automerge
                                       else 'no'),
        'domerge in conf      = %s' % ('yes' if str(conf.glob.get(
            'DOMERGE', '')).upper() in ('ON', 'YES') else 'no'),
        'SSL/TLS min version  = (default)',
        'NSSDB dir path       = ',
        'socket thread count  = %d' % conf.num('SOCKTHREADCNT', 0),
        'MQ thread count      = %d' % conf.num('MQTHREADCNT', 0),
        'max_mqueue           = %d' % maxmq,
        'chmpx_mqueue         = %d' % nchm,
        'max_q_per_chmpxmq    = %d' % conf.num('MAXQPERSERVERMQ', 8),
        'max_q_per_cltmq      = %d' % conf.num('MAXQPERCLIENTMQ', 1),
        'max_mq_per_client    = %d' % conf.num('MAXMQPERCLIENT', 1),
        'mq_per_attach        = %d' % per,
        'mq_ack               = %s' % ('true' if conf.mqack else 'false'),
        'Max socket pool      = %d' % conf.num('MAXSOCKPOOL', 1),
        'sock pool timeout    = %d' % conf.num('SOCKPOOLTIMEOUT', 60),
        'sock retry count     = %d' % conf.num('RETRYCNT', 500),
        'sock timeout         = %d' % conf.num('RWTIMEOUT', 200),
        'connect timeout      = %d' % conf.num('CONTIMEOUT', 5000),
        'MQ retry count       = %d' % conf.num('MQRETRYCNT', 3),
        'MQ timeout           = %d' % conf.num('MQRWTIMEOUT', 10000),
        'merge timeout        = %d' % conf.num('MERGETIMEOUT', 0),
        'base_msgid           = %d' % base,
        'chmpx_msg_count      = %d' % nchm,
        'chmpx_msgs           = 0x693048',
    ]
    lines += _msgs(snap.pid, nchm, '0x7 - [Chmpx][Assigned][Activated]',
                   base)
    lines.append('activated_msg_count  = %d' % act)
    if act:
        lines.append('activated_msgs       = 0x693088')
        lines += _msgs(clients[0], act, '0xb - [Client][Assigned]'
                       '[Activated]', base + nchm)
    else:
        lines.append('activated_msgs       = 0')
    lines += [
        'assigned_msg_count   = 0',
        'assigned_msgs        = 0',
        'free_msg_count       = %d' % max(maxmq - nchm - act, 0),
        'free_msgs            = 0x6930a8',
        'last_msgid_chmpx     = 0x%x' % (base + nchm - 1),
        'last_msgid_activated = 0x%x' % (base + nchm + act - 1 if act
                                         else 0xffffffffffffffff),
        'last_msgid_assigned  = 0xffffffffffffffff',
        'chmpx_man{',
        '  group              = %s' % snap.group,
        '  cfg_revision       = %d' % conf.num('FILEVERSION', 0),
        '  cfg_date           = 0',
        '  replica_count      = %d' % conf.replica,
        '  chmpx_count        = %d' % conf.num('MAXCHMPX', 1024),
        '  chmpxid_map[4096]',
    ]
    bases = sorted((r for r in snap.servers if r.base >= 0 and
                    r.base != 0xffffffffffffffff), key=lambda r: r.base)
    pends = sorted((r for r in snap.servers if r.pending >= 0 and
                    r.pending != 0xffffffffffffffff),
                   key=lambda r: r.pending)
    for label, rows in (('chmpx_base_srvs    = 0x691fe8', bases),
                        ('chmpx_pend_srvs    = 0x6927e8', pends)):
        lines += ['  ' + label, '  [%d] {' % len(rows)]
        lines += ['    [%d] = 0x%x' % (i, r.chmpxid)
                  for i, r in enumerate(rows)]
        lines.append('  }')
    lines += ['  chmpx_self         = 0x87e8', '  {']
    lines += _chmpx(snap.me, '    ', True)
    lines += ['  }',
              '  chmpx_bhash_count  = %d' % len(bases),
              '  chmpx_server_count = %d' % len(snap.servers),
              '  chmpx_servers      = 0x87e8']
    lines += _chain(snap.servers, me_server)
    lines += ['  chmpx_slave_count  = %d' % len(snap.slaves)]
    if snap.slaves:
        lines.append('  chmpx_slaves       = 0x22a48')
        lines += _chain(snap.slaves, None)
    else:
        lines.append('  chmpx_slaves       = 0')
    lines += [
        '  chmpx_free_count   = %d' % max(conf.num('MAXCHMPX', 1024)
                                          - len(snap.servers)
                                          - len(snap.slaves), 0),
        '  chmpx_frees        = 0x292e0',
        '  sock_free_count    = 5117',
        '  sock_frees         = 0x693258',
        '  is_operating       = no',
        '  last_chmpxid       = 0x%x' % snap.me.chmpxid,
    ]
    for label in ('server_stat', 'slave_stat'):
        lines += [
            '  %s{' % label,
            '    total_sent_count     = 0',
            '    total_received_count = 0',
            '    total_body_bytes     = 0',
            '    min_body_bytes       = 0',
            '    max_body_bytes       = 0',
            '    total_elapsed_time   = 0s 0ns',
            '    min_elapsed_time     = 0s 0ns',
            '    max_elapsed_time     = 0s 0ns',
            '  }']
    lines += ['}', 'rel_chmpxmsgarea     = 0x692fe8']
    if clients:
        lines += ['client_pids          = 0x693168', '{']
        for i, pid in enumerate(clients):
            lines += ['  [%d] = {' % i, '    prev = 0', '    next = 0',
                      '    pid  = %d' % pid, '  }']
        lines.append('}')
    else:
        lines.append('client_pids          = 0')
    lines += [
        'free_pids            = 0x693180',
        'k2hash full map      = %s' % ('yes' if str(conf.glob.get(
            'K2HFULLMAP', 'on')).upper() in ('ON', 'YES') else 'no'),
        'init k2h mask bit    = %d' % conf.num('K2HMASKBIT', 8),
        'init k2h cmask bit   = %d' % conf.num('K2HCMASKBIT', 4),
        'k2hash max element   = %d' % conf.num('K2HMAXELE', 32),
        'history log count    = %d' % conf.num('MAXHISTLOG', 8192),
        sep,
    ]
    return '\n'.join(lines) + '\n'
