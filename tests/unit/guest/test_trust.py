"""The guest refuses INI values it does not vouch for before it installs
the INI, purges or builds the shm path, and touches nothing
(doc/k2hr3-layout.md §5)."""

from __future__ import annotations

import re
import types

import pytest

from tests.standins.dataplane import harness
from trove_k2hdkc.chmpx.ini import SELF_INSTANCE_ID_PLACEHOLDER
from trove_k2hdkc.guest import errors
from trove_k2hdkc.guest.access import AccessStore
from trove_k2hdkc.guest.node_config import NodeConfig
from trove_k2hdkc.guest.node_config import cluster_group
from trove_k2hdkc.guest.service import K2hdkcApp
from trove_k2hdkc.k2hr3.access import NodeAccess

CLUSTER = '5d2e8c1a-7b3f-4a6e-9c0d-1e2f3a4b5c6d'
GROUP = 'k2hdkc-' + CLUSTER
GUEST = '3f0a5e2c-1b7d-4e8a-9c6b-2d4f8a1e7c90'
PORT, CTLPORT = 8020, 8021


def access(path: str = GROUP + '/server') -> NodeAccess:
    return NodeAccess(k2hr3_url='https://k2hr3.example:443',
                      resource_yrn='yrn:yahoo:::tenant0:resource:' + path,
                      role_yrn='yrn:yahoo:::tenant0:role:' + path,
                      role_token='secret-token')


def rendered(k2hfile: str, group: str = GROUP, extra: str = '') -> str:
    me = {'cuk': GUEST, 'seed': GUEST, 'port': PORT, 'ctlport': CTLPORT}
    slave = {'cuk': 'slave', 'seed': 'slave', 'ctlport': 8031}
    text = harness.render_ini(group, [me], slave,
                              {'cuk': SELF_INSTANCE_ID_PLACEHOLDER},
                              automerge=False, k2hfile=k2hfile)
    return text.replace('[K2HDKC]\n', '[K2HDKC]\n' + extra)


@pytest.fixture
def node(tmp_path):
    data = tmp_path / 'data'
    data.mkdir()
    config = NodeConfig(tmp_path / 'conf' / 'k2hdkc.ini', GUEST, CTLPORT,
                        data_dir=data, port=PORT)
    victim = tmp_path / 'victim'
    victim.write_text('root:x:0:0\n')
    return types.SimpleNamespace(config=config, data=data, victim=victim,
                                 good=rendered(str(data / 'k2hdkc.k2h')))


def test_cluster_group_comes_from_the_resource_the_control_plane_named():
    assert cluster_group(access()) == GROUP
    assert cluster_group(access(GROUP)) == GROUP
    for path in ('trove-k2hdkc-c1-server', 'k2hdkc-not-a-uuid/server',
                 'other-%s/server' % CLUSTER):
        with pytest.raises(errors.ConfigRefusedError,
                           match='not a cluster resource'):
            cluster_group(access(path))


@pytest.mark.parametrize('tamper,key', [
    (lambda n: rendered(str(n.victim)), 'K2HFILE'),
    (lambda n: rendered(str(n.data / '..' / 'victim')), 'K2HFILE'),
    (lambda n: rendered(str(n.data / 'k2hdkc.k2h'), group='../' + GROUP),
     'GROUP'),
    (lambda n: rendered(str(n.data / 'k2hdkc.k2h'),
                        extra='ATTRPLUGIN = /tmp/evil.so\n'), 'ATTRPLUGIN'),
    (lambda n: rendered(str(n.data / 'k2hdkc.k2h')).replace(
        'PORT                = %d' % PORT, 'PORT = 2222'), 'PORT'),
])
def test_install_refuses_and_keeps_the_live_ini(node, tamper, key):
    changed, _ = node.config.install(node.good, access())
    assert changed
    live = node.config.path.read_bytes()
    with pytest.raises(errors.UntrustedConfigError) as info:
        node.config.install(tamper(node), access())
    assert re.search(r'\] %s[: ]' % key, str(info.value)), info.value
    assert str(node.victim) not in str(info.value)
    assert node.config.path.read_bytes() == live
    assert node.victim.read_text() == 'root:x:0:0\n'


def test_install_refused_for_another_cluster(node):
    other = GROUP.replace('5d2e', '6e3f')
    with pytest.raises(errors.UntrustedConfigError, match='GROUP'):
        node.config.install(node.good, access(other + '/server'))
    assert not node.config.exists()


class Runtime:
    """Records every process call: a refused purge makes none."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        return lambda *args: self.calls.append(name)


@pytest.fixture
def app(node, tmp_path):
    """A node whose live INI names the victim as K2HFILE: written before
    these checks existed, or by hand."""
    store = AccessStore(tmp_path / 'conf')
    node.config.install(node.good, access())
    store.save(access())
    node.config.path.write_text(node.config.current().replace(
        str(node.data / 'k2hdkc.k2h'), str(node.victim)))
    runtime = Runtime()
    app = K2hdkcApp(runtime, node.config, store, None, conf_dir=tmp_path,
                    data_dir=node.data, start_timeout=0.2,
                    poll_interval=0.01)
    return types.SimpleNamespace(app=app, runtime=runtime, node=node)


@pytest.mark.parametrize('operation', ['purge_prepare', 'purge_finish',
                                       'purge_node', 'shm_path'])
def test_acting_on_a_tampered_live_ini_is_refused(app, operation):
    aside = app.node.victim.with_name('victim.purge')
    aside.write_text('kept')
    with pytest.raises(errors.UntrustedConfigError,
                       match=r'\[K2HDKC\] K2HFILE: a path outside'):
        getattr(app.app, operation)()
    assert app.runtime.calls == []
    assert app.node.victim.read_text() == 'root:x:0:0\n'
    assert aside.read_text() == 'kept'
