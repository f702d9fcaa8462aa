"""Typed view of a chmpx node status word and its field values.

chmpx prints a node's status as ``0x21(SAFE -> [SERVICE IN][UP][n/a]
[Nothing][NoSuspend])``.  Both halves carry the same facts; this module
decodes the text and cross-checks it against the known bits of the code,
so a reply from a chmpx whose format drifted fails loudly
(``UnexpectedReply``) instead of being misread as healthy.

The multi-line replies (SELFSTATUS, ALLSTATUS) and VERSION are parsed
into frozen dataclasses here too. Pure functions only: no I/O.
"""

from __future__ import annotations

import dataclasses
import enum
import re

from trove_k2hdkc.chmpx import _fields
from trove_k2hdkc.chmpx._fields import NO_HASH
from trove_k2hdkc.chmpx._fields import LastUpdate
from trove_k2hdkc.chmpx.errors import UnexpectedReply

__all__ = [
    'HEALTHY_CODE',
    'NO_HASH',
    'Action',
    'AllStatus',
    'LastUpdate',
    'Live',
    'NodeStatus',
    'Operate',
    'Ring',
    'SelfStatus',
    'ServerStatus',
    'Version',
    'parse_all_status',
    'parse_node_status',
    'parse_self_status',
    'parse_version',
]
HEALTHY_CODE = 0x21

_LIVE_MASK = 0x1
_RING_MASK = 0x30
_ACTION_MASK = 0xf00
_OPERATE_MASK = 0xf000
_SUSPEND_MASK = 0x10000


class Ring(enum.Enum):
    """Whether the node owns part of the hash ring."""
    SLAVE = 'SLAVE'
    SERVICE_OUT = 'SERVICE OUT'
    SERVICE_IN = 'SERVICE IN'


class Live(enum.Enum):
    UP = 'UP'
    DOWN = 'DOWN'


class Action(enum.Enum):
    """A join (ADD) or leave (DELETE) waiting for or in a merge."""
    NONE = 'n/a'
    ADD = 'ADD'
    DELETE = 'DELETE'


class Operate(enum.Enum):
    """Merge phase of the node."""
    NOTHING = 'Nothing'
    PENDING = 'Pending'
    DOING = 'Doing'
    DONE = 'Done'


_RING_BITS = {Ring.SLAVE: 0x0, Ring.SERVICE_OUT: 0x10, Ring.SERVICE_IN: 0x20}
_LIVE_BITS = {Live.DOWN: 0x0, Live.UP: 0x1}
_ACTION_BITS = {Action.NONE: 0x0, Action.ADD: 0x100, Action.DELETE: 0x200}
_OPERATE_BITS = {Operate.NOTHING: 0x0, Operate.PENDING: 0x1000,
                 Operate.DOING: 0x2000, Operate.DONE: 0x3000}
_SUSPEND_TEXT = {'NoSuspend': False, 'Suspend': True}

_STATUS_RE = re.compile(
    r'^0x(?P<code>[0-9a-fA-F]+)\((?P<safe>SAFE|NOT SAFE) -> '
    r'\[(?P<ring>[^\]]*)\]\[(?P<live>[^\]]*)\]\[(?P<action>[^\]]*)\]'
    r'\[(?P<operate>[^\]]*)\]\[(?P<suspend>[^\]]*)\]\)$')


@dataclasses.dataclass(frozen=True)
class NodeStatus:
    """One node's status word, decoded.

    ``suspended`` is chmpx's ``[Suspend]``: no k2hdkc process is attached
    to this server chmpx, so it gets no traffic and cannot merge.
    """

    code: int
    safe: bool
    ring: Ring
    live: Live
    action: Action
    operate: Operate
    suspended: bool

    @property
    def is_up(self) -> bool:
        return self.live is Live.UP

    @property
    def in_service(self) -> bool:
        return self.ring is Ring.SERVICE_IN

    @property
    def attached(self) -> bool:
        """A k2hdkc (or a slave's client) is attached to this chmpx."""
        return not self.suspended

    @property
    def is_healthy(self) -> bool:
        """Exactly ``[SERVICE IN][UP][n/a][Nothing][NoSuspend]`` (0x21);
        anything else, even an attached node in a merge, is not."""
        return self.code == HEALTHY_CODE

    @property
    def is_merging(self) -> bool:
        """A merge phase (Pending, Doing or Done) is set on this node."""
        return self.operate is not Operate.NOTHING

    @property
    def needs_merge(self) -> bool:
        """``[Pending]``: waits for a MERGE.  Only the caller knows whether
        a procedure is running; with none, it must send MERGE then
        COMPMERGE (a k2hdkc restart on an AUTOMERGE=off ring leaves this)."""
        return self.operate is Operate.PENDING

    @property
    def needs_compmerge(self) -> bool:
        """``[Done]``: the merge finished here and waits for COMPMERGE."""
        return self.operate is Operate.DONE

    @property
    def text(self) -> str:
        """The form chmpx prints, e.g. for logs and error messages."""
        return '0x{:x}({} -> [{}][{}][{}][{}][{}])'.format(
            self.code, 'SAFE' if self.safe else 'NOT SAFE', self.ring.value,
            self.live.value, self.action.value, self.operate.value,
            'Suspend' if self.suspended else 'NoSuspend')


def _member(enum_cls: type[enum.Enum], text: str, raw: str):
    try:
        return enum_cls(text)
    except ValueError:
        raise UnexpectedReply(
            f'unknown {enum_cls.__name__} value {text!r} in status',
            raw) from None


def parse_node_status(value: str) -> NodeStatus:
    """Decode ``0x<hex>(SAFE -> [RING][LIVE][ACTION][OPERATE][SUSPEND])``.

    The text decides; the bits of the code that we know must agree with it.
    Bits outside the known masks are tolerated (none were observed).
    """
    raw = value
    match = _STATUS_RE.match(value.strip())
    if not match:
        raise UnexpectedReply('malformed status', raw)
    if match['suspend'] not in _SUSPEND_TEXT:
        raise UnexpectedReply(
            f'unknown suspend value {match["suspend"]!r} in status', raw)
    status = NodeStatus(
        code=int(match['code'], 16),
        safe=match['safe'] == 'SAFE',
        ring=_member(Ring, match['ring'], raw),
        live=_member(Live, match['live'], raw),
        action=_member(Action, match['action'], raw),
        operate=_member(Operate, match['operate'], raw),
        suspended=_SUSPEND_TEXT[match['suspend']])
    expected = (_RING_BITS[status.ring] | _LIVE_BITS[status.live]
                | _ACTION_BITS[status.action]
                | _OPERATE_BITS[status.operate]
                | (_SUSPEND_MASK if status.suspended else 0))
    known = _LIVE_MASK | _RING_MASK | _ACTION_MASK | _OPERATE_MASK \
        | _SUSPEND_MASK
    if status.code & known != expected:
        raise UnexpectedReply(
            f'status code 0x{status.code:x} disagrees with its text', raw)
    return status




@dataclasses.dataclass(frozen=True)
class SelfStatus:
    """The SELFSTATUS reply: this chmpx process's own view of itself.

    Hashes are ``None`` when chmpx shows 0xffffffffffffffff (out, down or
    slave); ``port`` is ``None`` on a slave (``-1(n/a)``).  ``stats`` keeps
    the traffic counters as chmpx printed them (nested key/value pairs).
    """

    server_name: str
    internal_id: int
    ring_name: str
    mode: str
    max_mq_count: int
    max_queue_per_chmpx_mq: int
    max_queue_per_client_mq: int
    status: NodeStatus
    last_update: LastUpdate
    enable_hash: int | None
    pending_hash: int | None
    port: int | None
    port_socket: int | None
    ctlport: int
    ctlport_socket: int | None
    cuk: str
    custom_id_seed: str
    endpoints: str
    ctl_endpoints: str
    forward_peers: str
    reverse_peers: str
    ssl: bool
    to_servers: int
    from_slaves: int
    on_ctlport: int
    stats: tuple

    @property
    def is_server(self) -> bool:
        return self.mode == 'Server'


def _freeze(block: _fields.Block) -> tuple:
    return tuple((key, value if isinstance(value, str) else _freeze(value))
                 for key, value in block)


def parse_self_status(raw: str) -> SelfStatus:
    """Parse a SELFSTATUS reply (servers and slaves)."""
    top = _fields.Fields(_fields.parse_blocks(raw), raw, 'SELFSTATUS')
    mode = top.text('Mode')
    if mode not in ('Server', 'Slave'):
        raise UnexpectedReply(f'unknown Mode {mode!r}', raw)
    status = top.block('Status')
    hashes = top.block('Hash')
    conn = top.block('Connection')
    count = top.block('Connection Count')
    port, port_socket = _fields.parse_port_socket(conn.text('Port(socket)'))
    ctlport, ctl_socket = _fields.parse_port_socket(
        conn.text('Control Port(socket)'))
    if ctlport is None:
        raise UnexpectedReply('SELFSTATUS has no control port', raw)
    return SelfStatus(
        server_name=top.text('Server Name'),
        internal_id=_fields.parse_hex(top.text('Internal ID')),
        ring_name=top.text('RING Name'),
        mode=mode,
        max_mq_count=_fields.parse_int(top.text('Maximum MQ Count')),
        max_queue_per_chmpx_mq=_fields.parse_int(
            top.text('Maximum Queue / Chmpx MQ')),
        max_queue_per_client_mq=_fields.parse_int(
            top.text('Maximum Queue / Client MQ')),
        status=parse_node_status(status.text('Server Status')),
        last_update=_fields.parse_last_update(status.text('Last Update')),
        enable_hash=_fields.parse_hash(hashes.text('Enable Hash Value')),
        pending_hash=_fields.parse_hash(hashes.text('Pending Hash Value')),
        port=port, port_socket=port_socket,
        ctlport=ctlport, ctlport_socket=ctl_socket,
        cuk=conn.text('CUK'),
        custom_id_seed=conn.text('Custom ID Seed'),
        endpoints=conn.text('Endpoints'),
        # sic: chmpx spells it "Endppoints".
        ctl_endpoints=conn.text('Control Endppoints'),
        forward_peers=conn.text('Forward Peers'),
        reverse_peers=conn.text('Reverse Peers'),
        ssl=_fields.parse_yes_no(conn.text('SSL Connection')),
        to_servers=_fields.parse_int(count.text('To Servers')),
        from_slaves=_fields.parse_int(count.text('From Slaves')),
        on_ctlport=_fields.parse_int(count.text('On Control port')),
        stats=_freeze(top.raw_block('Stats')))


@dataclasses.dataclass(frozen=True)
class ServerStatus:
    """One ``No.N`` entry of ALLSTATUS (``number`` is N, config order)."""

    number: int
    server_name: str
    port: int
    ctlport: int
    cuk: str
    custom_id_seed: str
    endpoints: str
    ctl_endpoints: str
    forward_peers: str
    reverse_peers: str
    ssl: bool
    status: NodeStatus
    last_update: LastUpdate
    enable_hash: int | None
    pending_hash: int | None


@dataclasses.dataclass(frozen=True)
class AllStatus:
    """The ALLSTATUS reply: this process's view of every server, in
    SVRNODE (config) order; base hashes follow join order instead."""

    ring_name: str
    servers: tuple[ServerStatus, ...]

    @property
    def all_healthy(self) -> bool:
        """Every listed server is exactly 0x21 (and there is at least one).
        """
        return bool(self.servers) and all(
            s.status.is_healthy for s in self.servers)

    def find(self, *, ctlport: int | None = None,
             custom_id_seed: str | None = None,
             cuk: str | None = None) -> ServerStatus | None:
        """The one server matching every given field, else ``None``."""
        found = [s for s in self.servers
                 if (ctlport is None or s.ctlport == ctlport)
                 and (custom_id_seed is None
                      or s.custom_id_seed == custom_id_seed)
                 and (cuk is None or s.cuk == cuk)]
        return found[0] if len(found) == 1 else None


_NUMBER_RE = re.compile(r'^No\.(\d+)$')


def _server_entry(number: int, block: _fields.Block,
                  raw: str) -> ServerStatus:
    f = _fields.Fields(block, raw, f'ALLSTATUS No.{number}')
    return ServerStatus(
        number=number,
        server_name=f.text('Server Name'),
        port=_fields.parse_int(f.text('Port')),
        ctlport=_fields.parse_int(f.text('Control Port')),
        cuk=f.text('CUK'),
        custom_id_seed=f.text('Custom ID Seed'),
        endpoints=f.text('Endpoints'),
        ctl_endpoints=f.text('Control Endppoints'),
        forward_peers=f.text('Forward Peers'),
        reverse_peers=f.text('Reverse Peers'),
        ssl=_fields.parse_yes_no(f.text('Use SSL')),
        status=parse_node_status(f.text('Server Status')),
        last_update=_fields.parse_last_update(f.text('Last Update')),
        enable_hash=_fields.parse_hash(f.text('Enable Hash Value')),
        pending_hash=_fields.parse_hash(f.text('Pending Hash Value')))


def parse_all_status(raw: str) -> AllStatus:
    """Parse an ALLSTATUS reply: ``RING Name = g`` then ``No.1`` .. ``No.N``
    blocks of ``Key = value`` lines."""
    lines = [line.strip() for line in raw.splitlines() if line.strip()]
    if not lines:
        raise UnexpectedReply('empty ALLSTATUS reply', raw)
    key, sep, ring_name = lines[0].partition('=')
    if key.strip() != 'RING Name' or not sep:
        raise UnexpectedReply('ALLSTATUS does not start with RING Name', raw)
    entries: list[tuple[int, _fields.Block]] = []
    for line in lines[1:]:
        match = _NUMBER_RE.match(line)
        if match:
            number = int(match[1])
            if number != len(entries) + 1:
                raise UnexpectedReply(
                    f'ALLSTATUS entry No.{number} out of order', raw)
            entries.append((number, []))
            continue
        key, sep, value = line.partition('=')
        if not sep or not entries:
            raise UnexpectedReply(f'unexpected ALLSTATUS line {line!r}', raw)
        entries[-1][1].append((key.strip(), value.strip()))
    return AllStatus(
        ring_name=ring_name.strip(),
        servers=tuple(_server_entry(n, b, raw) for n, b in entries))


@dataclasses.dataclass(frozen=True)
class Version:
    """``Version 1.0.109 (commit: 8ad99bf) with OpenSSL``."""

    version: str
    commit: str
    tls: str | None

    @property
    def version_tuple(self) -> tuple[int, ...]:
        return tuple(int(p) for p in self.version.split('.'))


_VERSION_RE = re.compile(
    r'^Version (\d+(?:\.\d+)*) \(commit: ([0-9A-Za-z]+)\)(?: with (.+))?$')


def parse_version(raw: str) -> Version:
    match = _VERSION_RE.match(raw.strip())
    if not match or raw.strip().count('\n'):
        raise UnexpectedReply('malformed VERSION reply', raw)
    return Version(version=match[1], commit=match[2], tls=match[3])
