"""Our INI template rendered by K2HR3's template engine: the stand-in's,
and a real K2HR3's when ``K2HDKC_TEST_K2HR3_URL`` names one (backends)."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from tests.functional.k2hr3 import ini_check
from trove_k2hdkc.chmpx import ini as chmpx_ini
from trove_k2hdkc.k2hr3 import SELF_INSTANCE_ID
from trove_k2hdkc.k2hr3 import ClusterK2hr3
from trove_k2hdkc.k2hr3 import ClusterSettings

SETTINGS = ClusterSettings(server_port=8020, server_ctlport=8021,
                           slave_ctlport=8031, replica=1, max_chmpx=512,
                           max_members=128, mask_bits=10,
                           k2hfile='/data/k2hdkc/dkc.k2h')


@pytest.fixture
def cluster(backend):
    obj = ClusterK2hr3(backend.client, backend.token, str(uuid.uuid4()),
                       SETTINGS)
    tokens = obj.provision()
    yield obj, tokens
    obj.teardown()


def _render(obj, tokens, kind):
    return obj.client.read_resource_by_role(
        tokens.for_kind(kind), obj.names.resource_yrn(kind))


@pytest.mark.parametrize('count', [1, 3, 4, 32])
def test_server_ini_lists_every_server_once(cluster, count):
    obj, tokens = cluster
    members = {}
    for i in range(count):
        ip = '10.0.%d.%d' % (i // 200, i % 200 + 1)
        members[ip] = 'inst-%03d' % i
        obj.add_member('server', ip, members[ip], tag='node-%03d' % i)
    obj.add_member('slave', '10.9.0.1', 'slave-1')
    text = _render(obj, tokens, 'server')
    parsed = ini_check.parse(text)
    glob = ini_check.sections(parsed, 'GLOBAL')[0]
    assert glob['MODE'] == 'SERVER' and glob['GROUP'] == obj.names.name
    for key, value in {'MQACK': 'no', 'AUTOMERGE': 'off', 'DOMERGE': 'on',
                       'CHMPXIDTYPE': 'CUSTOM', 'DELIVERMODE': 'hash',
                       'REPLICA': '1', 'MAXCHMPX': '512', 'PORT': '8020',
                       'CTLPORT': '8021', 'SELFCTLPORT': '8021',
                       'SELFCUK': SELF_INSTANCE_ID}.items():
        assert glob[key] == value, key
    servers = ini_check.sections(parsed, 'SVRNODE')
    assert sorted(s['NAME'] for s in servers) == sorted(members)
    for node in servers:
        assert node['CUK'] == members[node['NAME']]
        assert node['CUSTOM_ID_SEED'].startswith('node-')
        assert (node['PORT'], node['CTLPORT']) == ('8020', '8021')
    slaves = ini_check.sections(parsed, 'SLVNODE')
    assert [(s['NAME'], s['CUK'], s['CTLPORT']) for s in slaves] == [
        ('10.9.0.1', 'slave-1', '8031')]
    k2hdkc = ini_check.sections(parsed, 'K2HDKC')[0]
    assert k2hdkc['K2HINIT'] == 'no' and k2hdkc['K2HMASKBIT'] == '10'
    assert k2hdkc['K2HFILE'] == '/data/k2hdkc/dkc.k2h'


def test_slave_ini_and_dummy_slave(cluster):
    obj, tokens = cluster
    obj.add_member('server', '10.0.0.1', 'inst-1')
    obj.add_member('server', '10.0.0.2', 'inst-2')
    server_text = _render(obj, tokens, 'server')
    dummy = ini_check.sections(ini_check.parse(server_text), 'SLVNODE')
    assert [d['CUK'] for d in dummy] == ['dummy_cuk']
    obj.add_member('slave', '10.9.0.1', 'slave-1', tag='client-1')
    parsed = ini_check.parse(_render(obj, tokens, 'slave'))
    glob = ini_check.sections(parsed, 'GLOBAL')[0]
    assert glob['MODE'] == 'SLAVE' and 'PORT' not in glob
    assert (glob['CTLPORT'], glob['SELFCTLPORT']) == ('8031', '8031')
    assert glob['AUTOMERGE'] == 'off' and glob['DOMERGE'] == 'on'
    assert ini_check.sections(parsed, 'K2HDKC') == []
    assert len(ini_check.sections(parsed, 'SVRNODE')) == 2
    assert [s['CUSTOM_ID_SEED'] for s in ini_check.sections(
        parsed, 'SLVNODE')] == ['client-1']


def test_member_port_gives_ports_for_one_host_rigs(cluster):
    obj, tokens = cluster
    obj.add_member('server', '127.0.0.1', 'inst-1', port=28020)
    obj.add_member('server', '127.0.0.1', 'inst-2', port=28022)
    servers = ini_check.sections(ini_check.parse(
        _render(obj, tokens, 'server')), 'SVRNODE')
    assert sorted((s['PORT'], s['CTLPORT']) for s in servers) == [
        ('28020', '28021'), ('28022', '28023')]


@pytest.mark.parametrize('count', [1, 3, 4, 32])
def test_rendered_inis_pass_the_guest_validator(cluster, count):
    # What K2HR3 renders from our template is exactly what the guest's
    # strict check (run before every write) must accept, for each member,
    # values included: GROUP, K2HFILE under the data dir, own ports
    # (doc/k2hr3-layout.md §5).
    obj, tokens = cluster
    members = {'10.0.%d.%d' % (i // 200, i % 200 + 1): 'inst-%d' % i
               for i in range(count)}
    for ip, cuk in members.items():
        obj.add_member('server', ip, cuk, tag=cuk)
    obj.add_member('slave', '10.9.0.1', 'slave-1', tag='slave-1')
    server_text = _render(obj, tokens, 'server')
    trust = chmpx_ini.TrustedValues(group=obj.names.name,
                                    data_dir='/data/k2hdkc', port=8020,
                                    ctlport=8021)
    for ip, cuk in members.items():
        config = chmpx_ini.check_ini(
            chmpx_ini.fill_self_instance_id(server_text, cuk),
            chmpx_ini.NodeIdentity(mode='SERVER', cuk=cuk,
                                   custom_id_seed=cuk, name=ip,
                                   ctlport=8021, cli_ctlport=True), trust)
        assert len(config.servers) == count
    slave = chmpx_ini.check_ini(
        chmpx_ini.fill_self_instance_id(_render(obj, tokens, 'slave'),
                                        'slave-1'),
        chmpx_ini.NodeIdentity(mode='SLAVE', cuk='slave-1', name='10.9.0.1',
                               ctlport=8031),
        dataclasses.replace(trust, port=None, ctlport=8031))
    assert slave.mode == 'SLAVE'
