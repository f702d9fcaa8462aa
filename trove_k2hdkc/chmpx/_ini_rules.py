"""The rules ``ini`` enforces: known keys, value types, ring and self.

Sources: the INI files real chmpx ran on, defaults spelled out in
tests/data/reference/ini/*-explicit, and tests/data/reference/ini/errors/*
(what real chmpx finds fatal).  Private to ``ini``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from trove_k2hdkc.chmpx import limits

if TYPE_CHECKING:  # pragma: no cover
    from trove_k2hdkc.chmpx.ini import ChmpxConfig
    from trove_k2hdkc.chmpx.ini import NodeEntry
    from trove_k2hdkc.chmpx.ini import NodeIdentity
    from trove_k2hdkc.chmpx.ini import TrustedValues

_SSL_NODE_KEYS = {'SSL', 'SSL_VERIFY_PEER', 'CAPATH', 'SERVER_CERT',
                  'SERVER_PRIKEY', 'SLAVE_CERT', 'SLAVE_PRIKEY'}
_PEER_KEYS = {'CUK', 'CTLENDPOINTS', 'FORWARD_PEERS', 'REVERSE_PEERS',
              'CUSTOM_ID_SEED'}

KNOWN_KEYS: dict[str, set[str]] = {
    'GLOBAL': {
        'FILEVERSION', 'DATE', 'GROUP', 'MODE', 'DELIVERMODE',
        'CHMPXIDTYPE', 'MAXCHMPX', 'REPLICA', 'MAXMQSERVER', 'MAXMQCLIENT',
        'MQPERATTACH', 'MAXQPERSERVERMQ', 'MAXQPERCLIENTMQ',
        'MAXMQPERCLIENT', 'MAXHISTLOG', 'PORT', 'CTLPORT', 'SELFCTLPORT',
        'SELFCUK', 'RWTIMEOUT', 'RETRYCNT', 'CONTIMEOUT', 'MQRWTIMEOUT',
        'MQRETRYCNT', 'MQACK', 'AUTOMERGE', 'DOMERGE', 'MERGETIMEOUT',
        'SOCKTHREADCNT', 'MQTHREADCNT', 'MAXSOCKPOOL', 'SOCKPOOLTIMEOUT',
        'SSL', 'SSL_MIN_VER', 'SSL_VERIFY_PEER', 'CAPATH', 'NSSDB_DIR',
        'SERVER_CERT', 'SERVER_PRIKEY', 'SLAVE_CERT', 'SLAVE_PRIKEY',
        'K2HFULLMAP', 'K2HMASKBIT', 'K2HCMASKBIT', 'K2HMAXELE'},
    'SVRNODE': {'NAME', 'PORT', 'CTLPORT', 'ENDPOINTS'} | _PEER_KEYS
    | _SSL_NODE_KEYS,
    'SLVNODE': {'NAME', 'CTLPORT'} | _PEER_KEYS | _SSL_NODE_KEYS,
    'K2HDKC': {
        'RCVTIMEOUT', 'SVRNODEINI', 'REPLCLUSTERINI', 'DTORTHREADCNT',
        'DTORCTP', 'K2HTYPE', 'K2HFILE', 'K2HFULLMAP', 'K2HINIT',
        'K2HMASKBIT', 'K2HCMASKBIT', 'K2HMAXELE', 'K2HPAGESIZE',
        'PASSPHRASES', 'PASSFILE', 'HISTORY', 'EXPIRE', 'ATTRPLUGIN',
        'MINTHREAD', 'MAXTHREAD', 'REDUCETIME'},
}
REPEATABLE_K2HDKC_KEYS = {'PASSPHRASES', 'ATTRPLUGIN'}

_PORT_KEYS = {'PORT', 'CTLPORT', 'SELFCTLPORT'}
_INT_KEYS = {
    'GLOBAL': {'FILEVERSION', 'MAXCHMPX', 'REPLICA', 'MAXMQSERVER',
               'MAXMQCLIENT', 'MQPERATTACH', 'MAXQPERSERVERMQ',
               'MAXQPERCLIENTMQ', 'MAXMQPERCLIENT', 'MAXHISTLOG',
               'RWTIMEOUT', 'RETRYCNT', 'CONTIMEOUT', 'MQRWTIMEOUT',
               'MQRETRYCNT', 'MERGETIMEOUT', 'SOCKTHREADCNT',
               'MQTHREADCNT', 'MAXSOCKPOOL', 'SOCKPOOLTIMEOUT',
               'K2HMASKBIT', 'K2HCMASKBIT', 'K2HMAXELE'},
    'K2HDKC': {'RCVTIMEOUT', 'DTORTHREADCNT', 'K2HMASKBIT', 'K2HCMASKBIT',
               'K2HMAXELE', 'K2HPAGESIZE', 'EXPIRE', 'MINTHREAD',
               'MAXTHREAD', 'REDUCETIME'},
}
_BOOL_KEYS = {'MQACK', 'AUTOMERGE', 'DOMERGE', 'SSL', 'SSL_VERIFY_PEER',
              'K2HFULLMAP', 'K2HINIT', 'HISTORY'}
_BOOLS = {'ON': True, 'YES': True, 'OFF': False, 'NO': False}
_CHOICES = {
    ('GLOBAL', 'MODE'): {'SERVER', 'SLAVE'},
    ('GLOBAL', 'CHMPXIDTYPE'): {'NAME', 'CUK', 'CTLENDPOINTS', 'CTLEPS',
                                'CUSTOM'},
    ('GLOBAL', 'SSL_MIN_VER'): {'DEFAULT', 'SSLV3', 'TLSV1.0', 'TLSV1.1',
                                'TLSV1.2', 'TLSV1.3'},
    ('K2HDKC', 'K2HTYPE'): {'M', 'MEM', 'MEMORY', 'F', 'FILE', 'T', 'TEMP',
                            'TEMPORARY'},
}
REQUIRED_GLOBAL = ('FILEVERSION', 'GROUP', 'MODE', 'DELIVERMODE',
                   'CHMPXIDTYPE', 'MQACK')


def _is_number(value: str) -> bool:
    """ASCII digits only (``str.isdigit`` also takes '²', which ``int``
    refuses)."""
    return value.isascii() and value.isdigit()


def as_port(value: str | None) -> int | None:
    if value is None or not _is_number(value):
        return None
    number = int(value)
    return number if limits.MIN_PORT <= number <= limits.MAX_PORT else None


def as_bool(value: str | None) -> bool | None:
    return None if value is None else _BOOLS.get(value.upper())


def value_error(section: str, key: str, value: str) -> str | None:
    """Why ``value`` is not valid for ``key``, or ``None``."""
    if key in _PORT_KEYS and section != 'K2HDKC':
        if as_port(value) is None:
            return (f'must be a port number ({limits.MIN_PORT}-'
                    f'{limits.MAX_PORT}), not {value!r}')
    elif key in _INT_KEYS.get(section, ()):
        if not _is_number(value):
            return f'must be a non-negative integer, not {value!r}'
        low, high = limits.bounds(section, key)
        if not low <= int(value) <= high:
            return f'must be within {low}-{high}, not {value}'
    elif key in _BOOL_KEYS:
        if as_bool(value) is None:
            return f'must be on/off/yes/no, not {value!r}'
    choices = _CHOICES.get((section, key))
    if choices and value.upper() not in choices:
        return f'must be one of {"/".join(sorted(choices))}, not {value!r}'
    return None


def _global_problems(config: ChmpxConfig,
                     identity: NodeIdentity) -> list[str]:
    glob = config.global_section
    problems = [f'[GLOBAL] lacks required key {key}'
                for key in REQUIRED_GLOBAL if key not in glob]
    mode = config.mode
    if mode in ('SERVER', 'SLAVE') and mode != identity.mode:
        problems.append(f'[GLOBAL] MODE = {mode} but this node is a '
                        f'{identity.mode}')
    if 'DELIVERMODE' in glob and glob['DELIVERMODE'].lower() != 'hash':
        problems.append('[GLOBAL] DELIVERMODE must be hash for K2HDKC')
    if 'MQACK' in glob and as_bool(glob['MQACK']) is not False:
        problems.append('[GLOBAL] MQACK must be no (k2hdkc refuses to '
                        'start with MQACK on)')
    if len(glob.get('GROUP', '')) >= 256:
        problems.append('[GLOBAL] GROUP is longer than 255 characters')
    return problems


def _node_problems(config: ChmpxConfig) -> list[str]:
    problems = []
    if not config.servers:
        problems.append('no [SVRNODE] section')
    if not config.slaves:
        problems.append('no [SLVNODE] section')
    id_type = config.global_section.get('CHMPXIDTYPE', '').upper()
    for entry in config.servers + config.slaves:
        where = f'[{entry.section}] at line {entry.line}'
        if not entry.name:
            problems.append(f'{where} has no NAME')
        if entry.section == 'SVRNODE' and entry.port is None:
            problems.append(f'{where} has no PORT (and no GLOBAL PORT)')
        if entry.ctlport is None:
            problems.append(f'{where} has no CTLPORT (and no GLOBAL '
                            'CTLPORT)')
        if id_type == 'CUSTOM' and entry.section == 'SVRNODE' \
                and not entry.custom_id_seed:
            problems.append(f'{where} has no CUSTOM_ID_SEED '
                            '(CHMPXIDTYPE = CUSTOM)')
        if id_type and id_type != 'CUSTOM' and entry.custom_id_seed:
            problems.append(f'{where} has CUSTOM_ID_SEED but CHMPXIDTYPE '
                            f'is {id_type}')
        if id_type == 'CUK' and not entry.cuk:
            problems.append(f'{where} has no CUK (CHMPXIDTYPE = CUK)')
    problems.extend(_duplicate_servers(config.servers))
    return problems


def _duplicate_servers(servers: list[NodeEntry]) -> list[str]:
    problems = []
    seen: dict[tuple, NodeEntry] = {}
    for entry in servers:
        keys: list[tuple] = [('NAME and CTLPORT', entry.name, entry.ctlport)]
        if entry.custom_id_seed:
            keys.append(('CUSTOM_ID_SEED', entry.custom_id_seed))
        if entry.cuk:
            keys.append(('CUK', entry.cuk))
        for key in keys:
            first = seen.setdefault(key, entry)
            if first is not entry:
                problems.append(
                    f'[SVRNODE] at line {entry.line} repeats the server at '
                    f'line {first.line} (same {key[0]})')
                break
    return problems


def _self_problems(config: ChmpxConfig,
                   identity: NodeIdentity) -> list[str]:
    problems = []
    own_section = 'SVRNODE' if identity.mode == 'SERVER' else 'SLVNODE'
    found = config.self_entries(identity)
    if not found and (config.servers if identity.mode == 'SERVER'
                      else config.slaves):
        problems.append(f'own entry ({identity.describe()}) is not in the '
                        f'[{own_section}] list')
    elif len(found) > 1:
        problems.append(f'own entry ({identity.describe()}) matches '
                        f'{len(found)} [{own_section}] entries')
    if identity.mode == 'SLAVE' or config.mode == 'SLAVE':
        if any(entry.matches(identity) for entry in config.servers):
            problems.append('MODE is SLAVE but this node is listed as a '
                            'server ([SVRNODE])')
    glob = config.global_section
    self_ctlport = as_port(glob.get('SELFCTLPORT'))
    if self_ctlport is not None and not identity.cli_ctlport:
        if identity.ctlport is not None and self_ctlport != identity.ctlport:
            problems.append(f'[GLOBAL] SELFCTLPORT = {self_ctlport} but '
                            f'this node uses {identity.ctlport}')
        elif len(found) == 1 and found[0].ctlport != self_ctlport:
            problems.append(f'[GLOBAL] SELFCTLPORT = {self_ctlport} differs '
                            f'from the own entry ({found[0].ctlport})')
    self_cuk = glob.get('SELFCUK')
    if self_cuk is not None:
        if identity.cuk is not None and self_cuk != identity.cuk:
            problems.append(f'[GLOBAL] SELFCUK = {self_cuk} but this node '
                            f'is {identity.cuk}')
        elif len(found) == 1 and found[0].cuk not in (None, self_cuk):
            problems.append('[GLOBAL] SELFCUK differs from the own entry\'s '
                            'CUK')
    return problems


def semantic_problems(config: ChmpxConfig,
                      identity: NodeIdentity) -> list[str]:
    """Every ring/self problem of a syntactically parsed config."""
    return (_global_problems(config, identity) + _node_problems(config)
            + _self_problems(config, identity))


# -- trust: values the guest acts on (doc/k2hr3-layout.md §5) -----

#: Keys that make k2hdkc load a library or another configuration: the
#: product never renders them, so their presence means a tampered INI.
_CODE_KEYS = {
    'ATTRPLUGIN': 'an attribute plugin library',
    'DTORCTP': 'a transaction plugin library',
    'REPLCLUSTERINI': 'a transaction plugin configuration',
    'SVRNODEINI': 'another chmpx configuration',
}
_SSL_PATH_KEYS = {'CAPATH', 'NSSDB_DIR', 'SERVER_CERT', 'SERVER_PRIKEY',
                  'SLAVE_CERT', 'SLAVE_PRIKEY'}


def _is_path_key(key: str) -> bool:
    return key.endswith(('FILE', 'PATH', 'DIR'))


def _under(value: str, directory: str | None) -> bool:
    """``value`` names something strictly below ``directory`` once
    symlinks and ``..`` are resolved."""
    if directory is None or not os.path.isabs(value):
        return False
    try:
        real = os.path.realpath(value)
        base = os.path.realpath(directory)
    except ValueError:          # an embedded NUL byte
        return False
    return real != base and os.path.commonpath([real, base]) == base


def _value_trust_problem(key: str, value: str, ssl_on: bool,
                         trust: TrustedValues) -> str | None:
    """Why this guest will not act on ``key = value`` (the value itself
    is never echoed), or ``None``."""
    if key in _CODE_KEYS:
        return f'{_CODE_KEYS[key]} (loads code the guest does not vouch for)'
    if key in _SSL_PATH_KEYS:
        if not ssl_on:
            return 'an SSL path while SSL is off'
        if not _under(value, trust.ssl_dir):
            return 'an SSL path outside the allowed SSL directory'
        return None
    if _is_path_key(key) and not _under(value, trust.data_dir):
        return 'a path outside the data directory'
    return None


def _where(section: str, key: str, line: int | None = None) -> str:
    """``[SECTION] KEY``, and which node entry for repeated sections."""
    entry = f' (entry at line {line})' if line else ''
    return f'[{section}] {key}{entry}'


def _section_trust_problems(section: str, line: int | None,
                            keys: dict[str, str], ssl_on: bool,
                            trust: TrustedValues) -> list[str]:
    problems = []
    for key, value in keys.items():
        problem = _value_trust_problem(key, value, ssl_on, trust)
        if problem:
            problems.append(f'{_where(section, key, line)}: {problem}')
    return problems


def _own_port_problems(config: ChmpxConfig, identity: NodeIdentity,
                       trust: TrustedValues) -> list[str]:
    problems = []
    selfctlport = config.global_section.get('SELFCTLPORT')
    if trust.ctlport is not None and selfctlport is not None \
            and as_port(selfctlport) != trust.ctlport:
        problems.append('[GLOBAL] SELFCTLPORT: not this node\'s control '
                        f'port {trust.ctlport}')
    for entry in config.self_entries(identity):
        if trust.ctlport is not None and entry.ctlport != trust.ctlport:
            problems.append(f'{_where(entry.section, "CTLPORT", entry.line)}'
                            f': not this node\'s control port '
                            f'{trust.ctlport}')
        if (trust.port is not None and entry.section == 'SVRNODE'
                and entry.port != trust.port):
            problems.append(f'{_where(entry.section, "PORT", entry.line)}: '
                            f'not this node\'s port {trust.port}')
    return problems


def trust_problems(config: ChmpxConfig, identity: NodeIdentity,
                   trust: TrustedValues) -> list[str]:
    """Every value the guest would act on that its own configuration
    and the cluster id do not vouch for; each names the key and the
    kind of value, never the value."""
    glob = config.global_section
    problems = []
    if config.group != trust.group:
        problems.append(f'[GLOBAL] GROUP: not this cluster\'s group '
                        f'{trust.group}')
    global_ssl = as_bool(glob.get('SSL')) is True
    problems += _section_trust_problems('GLOBAL', None, glob, global_ssl,
                                        trust)
    for entry in config.servers + config.slaves:
        ssl = as_bool(entry.keys.get('SSL'))
        problems += _section_trust_problems(
            entry.section, entry.line, entry.keys,
            global_ssl if ssl is None else ssl, trust)
    problems += _section_trust_problems('K2HDKC', None, config.k2hdkc,
                                        False, trust)
    for key, values in config.k2hdkc_lists.items():
        problems += _section_trust_problems(
            'K2HDKC', None, {key: values[0]}, False, trust)
    return problems + _own_port_problems(config, identity, trust)
