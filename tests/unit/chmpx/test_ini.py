"""The strict INI validator: reference files pass, crafted defects fail."""

from __future__ import annotations

import re

import pytest

from trove_k2hdkc.chmpx import ini
from trove_k2hdkc.chmpx.errors import InvalidIniError

_FOLDERS = ('3nodes', '4nodes', '3nodes-explicit', '4nodes-explicit')
NODE1_CUK = '6f1c2a4e-0b1d-4c55-9a53-6d1f0e2b7a01'
SLAVE_CUK = '9b8d7c6e-5f4a-4b3c-8d2e-1f0a9b8c7d01'


def _identity_for(name: str) -> ini.NodeIdentity:
    # The capture ran every node on one host: -ctlport picked the entry.
    if name == 'slave.ini':
        return ini.NodeIdentity(mode='SLAVE', cuk=SLAVE_CUK, ctlport=28031,
                                cli_ctlport=True)
    n = int(re.search(r'(\d)', name)[1])
    return ini.NodeIdentity(
        mode='SERVER', cuk=NODE1_CUK[:-1] + str(n),
        custom_id_seed=f'mydkc-server-{n}.example.net',
        ctlport=28019 + 2 * n, cli_ctlport=True)


def _reference_files(reference_dir):
    return [p for folder in _FOLDERS
            for p in sorted((reference_dir / 'ini' / folder).glob('*.ini'))]


def test_every_reference_ini_is_accepted(reference_dir):
    files = _reference_files(reference_dir)
    assert len(files) == 18
    for path in files:
        identity = _identity_for(path.name)
        config = ini.check_ini(path.read_text(), identity)
        assert config.group == 'mydkc'
        assert len(config.servers) == (4 if '4nodes' in str(path) else 3)
        assert len(config.slaves) == 1
        (own,) = config.self_entries(identity)
        assert own.ctlport == identity.ctlport
        assert bool(config.k2hdkc) == (identity.mode == 'SERVER')


def test_model_values(reference_dir):
    text = (reference_dir / 'ini/3nodes/server-node1.ini').read_text()
    config = ini.parse_ini(text)
    assert config.mode == 'SERVER'
    assert config.global_section['DATE'] == \
        'Sun, 22 Nov 2026 00:00:00 +0000'
    assert [(s.name, s.port, s.ctlport) for s in config.servers] == [
        ('127.0.0.1', 28020, 28021), ('127.0.0.1', 28022, 28023),
        ('127.0.0.1', 28024, 28025)]
    assert config.slaves[0].port is None
    assert config.k2hdkc['K2HFILE'] == \
        '/var/lib/antpickax/k2hdkc/data/k2hdkc.k2h'


@pytest.fixture
def base(reference_dir):
    return (reference_dir / 'ini/3nodes/server-node1.ini').read_text()


NODE1 = ini.NodeIdentity(mode='SERVER', cuk=NODE1_CUK, ctlport=28021)


def _replace(text, old, new, count=1):
    assert old in text, old
    return text.replace(old, new, count)


def _sub(text, pattern, new):
    out, n = re.subn(pattern, new, text, count=1, flags=re.M)
    assert n == 1, pattern
    return out


_SERVER2 = re.compile(r'^\[SVRNODE\]\n(?:[A-Z_]+ +=.*\n)+', re.M)

CASES = {
    'no_equal': (lambda t: _sub(t, r'^REPLICA .*$', 'REPLICA 1'),
                 'line 17: no "=" in \'REPLICA 1\''),
    'unknown_section': (lambda t: _replace(t, '[K2HDKC]', '[K2HDKX]'),
                        'unknown section [K2HDKX]'),
    'unclosed_section': (lambda t: _replace(t, '[GLOBAL]', '[GLOBAL'),
                         "unclosed section header '[GLOBAL'"),
    'duplicate_key': (lambda t: _replace(t, 'MQACK ', 'AUTOMERGE = on\n'
                                         'MQACK '),
                      'duplicate key [GLOBAL] AUTOMERGE'),
    'missing_group': (lambda t: _sub(t, r'^GROUP .*\n', ''),
                      '[GLOBAL] lacks required key GROUP'),
    'missing_idtype': (lambda t: _sub(t, r'^CHMPXIDTYPE .*\n', ''),
                       '[GLOBAL] lacks required key CHMPXIDTYPE'),
    'missing_mqack': (lambda t: _sub(t, r'^MQACK .*\n', ''),
                      '[GLOBAL] lacks required key MQACK'),
    'mqack_on': (lambda t: _sub(t, r'^MQACK .*$', 'MQACK = yes'),
                 '[GLOBAL] MQACK must be no'),
    'no_svrnode': (lambda t: _SERVER2.sub('', t),
                   'no [SVRNODE] section'),
    'no_slvnode': (lambda t: _replace(t, '[SLVNODE]', '[SVRNODE]'),
                   'no [SLVNODE] section'),
    'own_entry_missing': (lambda t: _replace(t, 'CUK                 = '
                                             + NODE1_CUK, 'CUK = other'),
                          'own entry (CUK=' + NODE1_CUK + ', CTLPORT=28021) '
                          'is not in the [SVRNODE] list'),
    'mode_slave_listed': (lambda t: _sub(t, r'^MODE .*$', 'MODE = SLAVE'),
                          'MODE is SLAVE but this node is listed as a '
                          'server'),
    'svrnode_twice': (lambda t: _replace(
        t, '[SLVNODE]', _SERVER2.search(t)[0] + '[SLVNODE]'),
        'repeats the server at line 59 (same NAME and CTLPORT)'),
    'no_ports': (lambda t: _sub(_sub(t, r'^PORT .*\n', ''),
                                r'^PORT .*28020\n', ''),
                 'has no PORT (and no GLOBAL PORT)'),
    'bad_number': (lambda t: _sub(t, r'^REPLICA .*$', 'REPLICA = many'),
                   "[GLOBAL] REPLICA must be a non-negative integer, not "
                   "'many'"),
    'unknown_key': (lambda t: _sub(t, r'^AUTOMERGE .*$', 'AUTOMERG = on'),
                    'unknown key [GLOBAL] AUTOMERG'),
    'lower_case_key': (lambda t: _sub(t, r'^DOMERGE .*$', 'domerge = on'),
                       'keys are upper-case names'),
    'empty_value': (lambda t: _sub(t, r'^CUSTOM_ID_SEED .*$',
                                   'CUSTOM_ID_SEED = '),
                    '[SVRNODE] CUSTOM_ID_SEED has an empty value'),
    'selfcuk_mismatch': (lambda t: _sub(t, r'^SELFCUK .*$',
                                        'SELFCUK = someone-else'),
                         '[GLOBAL] SELFCUK = someone-else but this node'),
    'placeholder': (lambda t: _sub(t, r'^SELFCUK .*$',
                                   'SELFCUK = __SELF_INSTANCE_ID__'),
                    '__SELF_INSTANCE_ID__ is not filled in'),
    'include': (lambda t: t + 'INCLUDE = /etc/other.ini\n',
                'INCLUDE is not allowed'),
    'delivermode': (lambda t: _sub(t, r'^DELIVERMODE .*$',
                                   'DELIVERMODE = random'),
                    'DELIVERMODE must be hash'),
}


@pytest.mark.parametrize('name', sorted(CASES))
def test_crafted_defect_is_rejected(base, name):
    mutate, message = CASES[name]
    with pytest.raises(InvalidIniError) as info:
        ini.check_ini(mutate(base), NODE1)
    assert any(message in p for p in info.value.problems), \
        info.value.problems
    assert message in str(info.value)


def test_every_problem_is_listed(base):
    text = _sub(_sub(base, r'^GROUP .*\n', ''), r'^MQACK .*$', 'MQACK = on')
    text = _replace(text, '[K2HDKC]', '[K2HDKC')
    with pytest.raises(InvalidIniError) as info:
        ini.check_ini(text, NODE1)
    assert len(info.value.problems) == 3, info.value.problems


def test_slave_identity_against_server_file(base):
    with pytest.raises(InvalidIniError) as info:
        ini.check_ini(base, ini.NodeIdentity(mode='SLAVE', cuk=NODE1_CUK))
    assert any('MODE = SERVER but this node is a SLAVE' in p
               for p in info.value.problems)


def test_selfctlport_must_match_without_cli_override(reference_dir):
    text = (reference_dir / 'ini/3nodes/server-node2.ini').read_text()
    node2 = dict(mode='SERVER', cuk=NODE1_CUK[:-1] + '2', ctlport=28023)
    with pytest.raises(InvalidIniError, match='SELFCTLPORT = 28021'):
        ini.check_ini(text, ini.NodeIdentity(**node2))
    ini.check_ini(text, ini.NodeIdentity(**node2, cli_ctlport=True))


def test_fill_self_instance_id(reference_dir):
    rendered = (reference_dir / 'k2hr3/rendered/server_3hosts.ini')
    text = ini.fill_self_instance_id(rendered.read_text(), NODE1_CUK)
    assert ini.SELF_INSTANCE_ID_PLACEHOLDER not in text
    assert ini.parse_ini(text).global_section['SELFCUK'] == NODE1_CUK
    with pytest.raises(ValueError):
        ini.fill_self_instance_id(rendered.read_text(), 'a b\nMQACK = yes')
    with pytest.raises(InvalidIniError, match='placeholder'):
        ini.fill_self_instance_id(text, NODE1_CUK)


def test_rendered_zero_hosts_is_rejected(reference_dir):
    rendered = (reference_dir / 'k2hr3/rendered/server_0hosts.ini')
    text = ini.fill_self_instance_id(rendered.read_text(), NODE1_CUK)
    with pytest.raises(InvalidIniError, match='no \\[SVRNODE\\] section'):
        ini.check_ini(text, NODE1)


def test_identity_needs_a_key():
    with pytest.raises(ValueError):
        ini.NodeIdentity(mode='SERVER', ctlport=8021)
    with pytest.raises(ValueError):
        ini.NodeIdentity(mode='MASTER', cuk='x')
