"""Strict parser and validator of the CHMPX/K2HDKC INI.

chmpx re-reads its INI on every change (inotify). A reload that hits a fatal
defect -- or no longer finds the node's own entry -- makes the running chmpx
exit (tests/data/reference/ini/errors/reload_*.log), while other defects are
silently tolerated with surprising results (``REPLICA = many`` becomes 0, an
unknown key or a lower-case one is ignored). The guest therefore validates
every rendered INI with ``check_ini`` *before* renaming it into place, and this
module is stricter than chmpx on purpose: anything chmpx would ignore or
misread is an error here.

Usage::

    text = fill_self_instance_id(rendered, instance_id)
    config = check_ini(text, NodeIdentity(mode='SERVER', cuk=instance_id,
                                          ctlport=8021))
"""

from __future__ import annotations

import dataclasses
import re

from trove_k2hdkc.chmpx import _ini_rules as rules
from trove_k2hdkc.chmpx.errors import InvalidIniError
from trove_k2hdkc.chmpx.errors import UntrustedIniError

SELF_INSTANCE_ID_PLACEHOLDER = '__SELF_INSTANCE_ID__'

GLOBAL = 'GLOBAL'
SVRNODE = 'SVRNODE'
SLVNODE = 'SLVNODE'
K2HDKC = 'K2HDKC'
_SINGLE_SECTIONS = (GLOBAL, K2HDKC)
_NODE_SECTIONS = (SVRNODE, SLVNODE)

_KEY_RE = re.compile(r'^[A-Z][A-Z0-9_]*$')


@dataclasses.dataclass(frozen=True)
class NodeIdentity:
    """Who "this node" is, as the guest knows it (not as the INI says).

    Every field given must match the node's entry: ``cuk`` (the Nova
    instance id, ``SELFCUK``), ``custom_id_seed`` (the role host tag) and/or
    ``name`` + ``ctlport``.  At least one way to find the entry is needed.

    ``cli_ctlport`` says chmpx is started with ``-ctlport <ctlport>``,
    which overrides ``SELFCTLPORT`` (several nodes on one host, as in the
    reference captures); otherwise ``SELFCTLPORT`` must agree with it.
    """

    mode: str
    cuk: str | None = None
    custom_id_seed: str | None = None
    name: str | None = None
    ctlport: int | None = None
    cli_ctlport: bool = False

    def __post_init__(self) -> None:
        if self.mode not in ('SERVER', 'SLAVE'):
            raise ValueError(f'mode must be SERVER or SLAVE: {self.mode!r}')
        if self.cli_ctlport and self.ctlport is None:
            raise ValueError('cli_ctlport needs ctlport')
        if not (self.cuk or self.custom_id_seed
                or (self.name and self.ctlport)):
            raise ValueError('identity needs cuk, custom_id_seed or '
                             'name and ctlport')

    def describe(self) -> str:
        parts = [f'{k.upper()}={v}' for k, v in (
            ('cuk', self.cuk), ('custom_id_seed', self.custom_id_seed),
            ('name', self.name), ('ctlport', self.ctlport)) if v]
        return ', '.join(parts)


@dataclasses.dataclass(frozen=True)
class TrustedValues:
    """What this node's own configuration and cluster id dictate.

    The INI comes from a K2HR3 resource the cluster's user can rewrite
    (doc/k2hr3-layout.md §5), so every value the guest (as root) or
    chmpx/k2hdkc act on is held against these: GROUP must be ``group``,
    file values must resolve below ``data_dir``, SSL paths below
    ``ssl_dir`` (``None``: none allowed), and the own entry must use
    ``port``/``ctlport`` where given.
    """

    group: str
    data_dir: str
    port: int | None = None
    ctlport: int | None = None
    ssl_dir: str | None = None


@dataclasses.dataclass(frozen=True)
class NodeEntry:
    """One ``[SVRNODE]`` or ``[SLVNODE]`` block.

    ``port``/``ctlport`` are effective values: the entry's own, else the
    GLOBAL ``PORT``/``CTLPORT`` default (``None`` if neither is valid; a
    slave has no ``port``).
    """

    section: str
    line: int
    keys: dict[str, str]
    port: int | None
    ctlport: int | None

    @property
    def name(self) -> str | None:
        return self.keys.get('NAME')

    @property
    def cuk(self) -> str | None:
        return self.keys.get('CUK')

    @property
    def custom_id_seed(self) -> str | None:
        return self.keys.get('CUSTOM_ID_SEED')

    def matches(self, identity: NodeIdentity) -> bool:
        """Every field the identity gives is equal in this entry."""
        return all(want is None or want == have for want, have in (
            (identity.cuk, self.cuk),
            (identity.custom_id_seed, self.custom_id_seed),
            (identity.name, self.name),
            (identity.ctlport, self.ctlport)))


@dataclasses.dataclass(frozen=True)
class ChmpxConfig:
    """A parsed INI: section dicts in file order.

    ``k2hdkc_lists`` holds the K2HDKC keys that may repeat (PASSPHRASES,
    ATTRPLUGIN); ``k2hdkc`` has every other K2HDKC key.
    """

    global_section: dict[str, str]
    servers: list[NodeEntry]
    slaves: list[NodeEntry]
    k2hdkc: dict[str, str]
    k2hdkc_lists: dict[str, list[str]]

    @property
    def group(self) -> str | None:
        return self.global_section.get('GROUP')

    @property
    def mode(self) -> str | None:
        mode = self.global_section.get('MODE')
        return mode.upper() if mode else None

    def self_entries(self, identity: NodeIdentity) -> list[NodeEntry]:
        """Entries of the identity's own list (servers for SERVER)."""
        own = self.servers if identity.mode == 'SERVER' else self.slaves
        return [entry for entry in own if entry.matches(identity)]


def fill_self_instance_id(text: str, instance_id: str) -> str:
    """Replace K2HR3's ``__SELF_INSTANCE_ID__`` with this node's CUK.

    The id must be one printable token: it lands in ``SELFCUK = ...``, and
    whitespace or a newline would change the INI's meaning.
    """
    if not re.match(r'^[\x21-\x7e]+$', instance_id or ''):
        raise ValueError(f'invalid instance id {instance_id!r}')
    if SELF_INSTANCE_ID_PLACEHOLDER not in text:
        raise InvalidIniError([f'no {SELF_INSTANCE_ID_PLACEHOLDER} '
                               'placeholder to fill'])
    return text.replace(SELF_INSTANCE_ID_PLACEHOLDER, instance_id)


#: Characters chmpx and k2hdkc give a meaning inside a value, each its
#: own: chmpx ends a value at a ``#`` after white space and strips and
#: joins quotes and backslashes; k2hdkc ends its [K2HDKC] lines at any
#: ``#`` and keeps quotes. So ``K2HFILE = /etc/passwd#/../<data dir>/x``
#: is one path here and ``/etc/passwd`` to k2hdkc. A value must mean the
#: same to all three, so these are refused (the template renders none).
_VALUE_SPECIAL = frozenset('#"\'\\')


def _value_problem(value: str) -> str | None:
    """Why chmpx or k2hdkc could read ``value`` other than as it is."""
    for char in value:
        if char in _VALUE_SPECIAL:
            return (f'holds {char!r}, which chmpx and k2hdkc read '
                    'differently (comment, quote or escape)')
        if not ' ' <= char <= '~':
            return (f'holds the character U+{ord(char):04X} (only '
                    'printable ASCII is allowed)')
    return None


class _Parser:
    """Line-by-line reader that records every problem instead of stopping.
    """

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.sections: dict[str, list[tuple[int, dict[str, str]]]] = {
            name: [] for name in _SINGLE_SECTIONS + _NODE_SECTIONS}
        self.k2hdkc_lists: dict[str, list[str]] = {}
        self.current: dict[str, str] | None = None
        self.section: str | None = None
        # After a bad header its keys are skipped: one problem, not many.
        self.skipping = False

    def problem(self, number: int, message: str) -> None:
        self.problems.append(f'line {number}: {message}')

    def header(self, number: int, text: str) -> None:
        if not text.endswith(']'):
            self.problem(number, f'unclosed section header {text!r}')
            self.section, self.current, self.skipping = None, None, True
            return
        # chmpx and k2hdkc match the whole line: ``[ K2HDKC ]`` is no
        # section of theirs.
        name = text[1:-1]
        if name not in self.sections:
            self.problem(number, f'unknown section [{name}]')
            self.section, self.current, self.skipping = None, None, True
            return
        if name in _SINGLE_SECTIONS and self.sections[name]:
            self.problem(number, f'section [{name}] appears twice')
        self.section, self.current, self.skipping = name, {}, False
        self.sections[name].append((number, self.current))

    def key_value(self, number: int, text: str) -> None:
        key, sep, value = text.partition('=')
        key, value = key.strip(' \t'), value.strip(' \t')
        if not sep:
            self.problem(number, f'no "=" in {text!r}')
            return
        if self.skipping:
            return
        if self.current is None or self.section is None:
            self.problem(number, f'{key} outside a known section')
            return
        where = f'[{self.section}] {key}'
        if not _KEY_RE.match(key):
            self.problem(number, f'{where}: keys are upper-case names')
            return
        if key not in rules.KNOWN_KEYS[self.section]:
            self.problem(number, f'unknown key {where}')
            return
        if not value:
            self.problem(number, f'{where} has an empty value')
            return
        special = _value_problem(value)
        if special:
            self.problem(number, f'{where} {special}')
            return
        if self.section == K2HDKC and key in rules.REPEATABLE_K2HDKC_KEYS:
            self.k2hdkc_lists.setdefault(key, []).append(value)
            return
        if key in self.current:
            self.problem(number, f'duplicate key {where}')
            return
        error = rules.value_error(self.section, key, value)
        if error:
            self.problem(number, f'{where} {error}')
        self.current[key] = value

    def feed(self, text: str) -> None:
        # Lines and blanks as chmpx/k2hdkc see them (``getline``, then
        # spaces and tabs trimmed): ``splitlines`` would also break at
        # \r, \v, \x1c and more, which they keep inside a line.
        for number, line in enumerate(text.split('\n'), 1):
            stripped = line.strip(' \t')
            if not stripped or stripped.startswith('#'):
                continue
            if stripped.startswith('['):
                self.header(number, stripped)
            elif stripped.split('=')[0].strip() == 'INCLUDE':
                self.problem(number, 'INCLUDE is not allowed: a rendered '
                                     'INI must be self-contained')
            else:
                self.key_value(number, stripped)


def _parse(text: str) -> tuple[ChmpxConfig, list[str]]:
    parser = _Parser()
    parser.feed(text)
    sections = parser.sections
    global_section = sections[GLOBAL][0][1] if sections[GLOBAL] else {}
    default_port = rules.as_port(global_section.get('PORT'))
    default_ctlport = rules.as_port(global_section.get('CTLPORT'))

    def entries(name: str) -> list[NodeEntry]:
        return [NodeEntry(
            section=name, line=line, keys=keys,
            port=(None if name == SLVNODE
                  else rules.as_port(keys['PORT']) if 'PORT' in keys
                  else default_port),
            ctlport=(rules.as_port(keys['CTLPORT']) if 'CTLPORT' in keys
                     else default_ctlport))
            for line, keys in sections[name]]

    config = ChmpxConfig(
        global_section=global_section,
        servers=entries(SVRNODE), slaves=entries(SLVNODE),
        k2hdkc=sections[K2HDKC][0][1] if sections[K2HDKC] else {},
        k2hdkc_lists=parser.k2hdkc_lists)
    if not sections[GLOBAL]:
        parser.problems.append('no [GLOBAL] section')
    return config, parser.problems


def parse_ini(text: str) -> ChmpxConfig:
    """Parse without checking who "self" is; syntax and key/value checks
    only.  Raises ``InvalidIniError`` listing every problem."""
    config, problems = _parse(text)
    if problems:
        raise InvalidIniError(problems)
    return config


def check_ini(text: str, identity: NodeIdentity,
              trust: TrustedValues | None = None) -> ChmpxConfig:
    """Parse and validate an INI for the node ``identity``; with
    ``trust``, also every value against it.

    Reports syntax problems and ring/self problems together, so one
    error lists everything to fix.  Raises ``UntrustedIniError`` if any
    value breaks ``trust``, else ``InvalidIniError``.
    """
    config, problems = _parse(text)
    if SELF_INSTANCE_ID_PLACEHOLDER in text:
        problems.append(f'{SELF_INSTANCE_ID_PLACEHOLDER} is not filled in')
    problems.extend(rules.semantic_problems(config, identity))
    untrusted = ([] if trust is None
                 else rules.trust_problems(config, identity, trust))
    if untrusted:
        raise UntrustedIniError(untrusted + problems)
    if problems:
        raise InvalidIniError(problems)
    return config
