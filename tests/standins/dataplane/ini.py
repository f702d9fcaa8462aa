"""Tolerant reader of the chmpx/k2hdkc INI, with chmpx's fatal checks.

Why: the stand-ins must accept exactly what the real chmpx accepts
(garbage lines, unknown keys, non-numeric numbers) and fail on what it
fails on, with the same log lines (tests/data/reference/ini/errors/*).

Self detection rule (documented in README.md): an SVRNODE/SLVNODE entry is
"me" when its CTLPORT equals the -ctlport option (else SELFCTLPORT) and its
NAME resolves to an address of this host (any 127.0.0.0/8 address counts,
so several nodes can share loopback), and, when SELFCUK is set, its CUK
equals SELFCUK.
"""

from __future__ import annotations

import dataclasses
import functools
import socket
import sys


class ConfigError(Exception):
    """A fatal configuration problem; ``lines`` are the chmpx log lines."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(lines[0] if lines else 'config error')
        self.lines = lines


@dataclasses.dataclass
class Node:
    name: str
    port: int
    ctlport: int
    cuk: str = ''
    seed: str = ''
    ssl: bool = False

    @property
    def ident(self) -> str:
        return '%s:%d' % (self.name, self.ctlport)

    def sort_key(self, idtype: str) -> tuple:
        seed = self.seed if idtype == 'CUSTOM' else ''
        return (seed, self.name, self.ctlport, self.cuk)


@dataclasses.dataclass
class Config:
    path: str
    glob: dict
    servers: list
    slaves: list
    k2hdkc: dict
    self_node: Node
    mode: str  # 'SERVER' or 'SLAVE'

    @property
    def group(self) -> str:
        return self.glob['GROUP']

    @property
    def idtype(self) -> str:
        return self.glob.get('CHMPXIDTYPE', 'NAME').upper()

    @property
    def replica(self) -> int:
        return to_int(self.glob.get('REPLICA'), 0)

    @property
    def automerge(self) -> bool:
        return to_bool(self.glob.get('AUTOMERGE'), False)

    @property
    def mqack(self) -> bool:
        return to_bool(self.glob.get('MQACK'), True)

    def num(self, key: str, default: int) -> int:
        return to_int(self.glob.get(key), default)


def to_int(text, default: int) -> int:
    if text is None:
        return default
    digits = ''
    for ch in text.strip():
        if ch.isdigit() or (ch == '-' and not digits):
            digits += ch
        else:
            break
    try:
        return int(digits)
    except ValueError:
        return 0


def to_bool(text, default: bool) -> bool:
    if text is None:
        return default
    return text.strip().upper() in ('ON', 'YES', 'TRUE', '1')


def parse_sections(text: str) -> list[tuple[str, dict]]:
    """Return [(section, {KEY: value})]; junk lines are skipped silently."""
    sections: list[tuple[str, dict]] = []
    current: dict | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith('#'):
            continue
        if line.startswith('['):
            if not line.endswith(']'):
                current = None  # unclosed header: chmpx loses the section
                continue
            current = {}
            sections.append((line[1:-1].strip(), current))
            continue
        if '=' not in line or current is None:
            continue
        key, _, value = line.partition('=')
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in '\'"':
            value = value[1:-1]
        current[key.strip()] = value
    return sections


@functools.lru_cache(maxsize=256)
def is_local(name: str) -> bool:
    try:
        addr = socket.gethostbyname(name)
    except OSError:
        return False
    if addr.startswith('127.'):
        return True
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((addr, 0))
        return True
    except OSError:
        return False


def _nodes(sections, which: str, glob: dict, server: bool) -> list[Node]:
    out = []
    for name, body in sections:
        if name != which or 'NAME' not in body:
            continue
        out.append(Node(
            name=body['NAME'],
            port=to_int(body.get('PORT', glob.get('PORT')), -1)
            if server else -1,
            ctlport=to_int(body.get('CTLPORT', glob.get('CTLPORT')), -1),
            cuk=body.get('CUK', ''),
            seed=body.get('CUSTOM_ID_SEED', ''),
            ssl=to_bool(body.get('SSL', glob.get('SSL')), False)))
    return out


def _find_self(nodes, ctlport: int, selfcuk: str) -> Node | None:
    for node in nodes:
        if node.ctlport != ctlport or not is_local(node.name):
            continue
        if selfcuk and node.cuk and node.cuk != selfcuk:
            continue
        return node
    return None


def load(path: str, ctlport: int | None) -> Config:
    """Load and validate like chmpx; raise ConfigError when fatal."""
    err = '[CHMPX-ERR] LoadConfiguration(%d) : configuration file(%s) %s'
    try:
        with open(path, encoding='utf-8', errors='replace') as fobj:
            text = fobj.read()
    except OSError:
        text = ''
    sections = parse_sections(text)
    glob: dict = {}
    k2h: dict = {}
    for name, body in sections:
        if name == 'GLOBAL':
            glob.update(body)
        elif name == 'K2HDKC':
            k2h.update(body)
    if not glob.get('GROUP'):
        raise ConfigError([err % (1444, path, 'does not have "GROUP" in '
                                  '[GLOBAL] section.')])
    servers = _nodes(sections, 'SVRNODE', glob, True)
    if not servers:
        raise ConfigError([err % (1994, path,
                                  'does not have [SVRNODE] section.')])
    slaves = _nodes(sections, 'SLVNODE', glob, False)
    if not slaves:
        raise ConfigError([err % (2397, path,
                                  'does not have [SLVNODE] section.')])
    if ctlport is None:
        ctlport = to_int(glob.get('SELFCTLPORT'), -1)
    selfcuk = glob.get('SELFCUK', '')
    mode = glob.get('MODE', '').upper()
    me = _find_self(servers, ctlport, selfcuk)
    if mode == 'SLAVE' and me is not None:
        raise ConfigError([err % (2592, path, 'have "MODE" as slave mode in '
                                  '[GLOBAL] section, but self control '
                                  'port(%d) found in server list.' % ctlport)])
    if me is not None:
        return Config(path, glob, servers, slaves, k2h, me, 'SERVER')
    if mode == 'SERVER':
        raise ConfigError([err % (2602, path, 'have "MODE" as server mode in '
                                  '[GLOBAL] section, but self control '
                                  'port(%d) not found in server list.'
                                  % ctlport)])
    me = _find_self(slaves, ctlport, selfcuk)
    if me is None:
        raise ConfigError([err % (2612, path, 'does not have self control '
                                  'port(%d) in server/slave list.' % ctlport)])
    return Config(path, glob, servers, slaves, k2h, me, 'SLAVE')


def command_line(argv: list[str] | None, valued: tuple[str, ...] = ('-d',)
                 ) -> tuple[str | None, int | None, dict[str, str]]:
    """``-conf <ini> -ctlport <port>`` plus the ``valued`` options of the
    real tools' command lines; other words are ignored, as by the tools.

    Returns (conf path, ctlport or None, every valued option found).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    found: dict[str, str] = {}
    while args:
        opt = args.pop(0)
        if opt in ('-conf', '-ctlport', *valued) and args:
            found[opt] = args.pop(0)
    ctlport = (to_int(found['-ctlport'], -1) if '-ctlport' in found
               else None)
    return found.get('-conf'), ctlport, found
