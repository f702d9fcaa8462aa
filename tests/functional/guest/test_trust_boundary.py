"""The cluster's user rewrites the cluster's K2HR3 resource with their own
token (K2HFILE=/etc/passwd, a GROUP with ``../``, an ATTRPLUGIN line):
the guest refuses the INI naming the key, touches no file outside its data
directory and the node keeps serving on its old INI
(doc/k2hr3-layout.md §5)."""

from __future__ import annotations

import hashlib
import os
import pathlib
import types

import pytest
from trove.common import cfg

from tests.functional.guest.test_node_lifecycle import GUEST
from tests.functional.guest.test_node_lifecycle import S
from tests.functional.guest.test_node_lifecycle import bootstrap
from tests.functional.guest.test_node_lifecycle import node  # noqa: F401
from tests.functional.guest.test_node_lifecycle import prepare
from tests.functional.k2hr3.helpers import CLUSTER_ID
from tests.standins.dataplane import harness
from tests.standins.k2hr3.fixture import k2hr3_standin  # noqa: F401
from tests.unit.guest.conffix import guest_conf  # noqa: F401
from trove_k2hdkc.guest import errors
from trove_k2hdkc.k2hr3 import ClusterK2hr3
from trove_k2hdkc.k2hr3 import ClusterSettings
from trove_k2hdkc.k2hr3.layout import SERVER

CONF = cfg.CONF
PASSWD = pathlib.Path('/etc/passwd')


def _fingerprint(path: pathlib.Path) -> tuple:
    st = path.stat()
    return (st.st_ino, st.st_size, st.st_mtime_ns,
            hashlib.sha256(path.read_bytes()).hexdigest())


@pytest.fixture
def cluster(node, guest_conf, tmp_path):  # noqa: F811
    """A one-server cluster laid out in K2HR3 as the control plane does
    (template + keys), its guest healthy on the rendered INI."""
    new_manager, k2hr3 = node
    mgr = new_manager()
    opts = CONF.get('k2hdkc')
    settings = ClusterSettings(
        server_port=opts.chmpx_server_port,
        server_ctlport=opts.chmpx_server_ctlport,
        slave_ctlport=harness.free_port(), max_mq_server=4,
        max_mq_client=8, mq_per_attach=2, max_mq_per_client=4,
        k2hfile=str(tmp_path / 'data' / 'k2hdkc.k2h'))
    objects = ClusterK2hr3(k2hr3.client, k2hr3.user, CLUSTER_ID, settings)
    tokens = objects.provision()
    objects.add_member(SERVER, '127.0.0.1', GUEST, tag=GUEST)
    names = objects.names
    access = {'k2hr3_url': k2hr3.url,
              'resource_yrn': str(names.resource_yrn(SERVER)),
              'role_yrn': str(names.role_yrn(SERVER)),
              'role_token': tokens.server.token}
    prepare(mgr)
    mgr.configure_node(None, **access)
    bootstrap(mgr)
    yield types.SimpleNamespace(mgr=mgr, k2hr3=k2hr3, name=names.name,
                                access=access)
    objects.teardown()


def _rewrite_keys(cluster, **changes):
    """What the cluster's user can do with their own (user) token."""
    client, user = cluster.k2hr3.client, cluster.k2hr3.user
    keys = client.get_resource(user, cluster.name).keys
    client.put_resource(user, cluster.name, keys=dict(keys, **changes))


def _add_template_line(cluster, after, line):
    client, user = cluster.k2hr3.client, cluster.k2hr3.user
    data = client.get_resource(user, cluster.name).string
    assert after in data
    client.put_resource(user, cluster.name,
                        data=data.replace(after, after + line, 1))


TAMPERING = {
    'K2HFILE': lambda c: _rewrite_keys(c, **{'k2hdkc-k2hfile':
                                             str(PASSWD)}),
    'GROUP': lambda c: _rewrite_keys(
        c, **{'cluster-name': '../../etc/cron.d/' + c.name}),
    'ATTRPLUGIN': lambda c: _add_template_line(
        c, 'K2HINIT             = no\n', 'ATTRPLUGIN = /tmp/evil.so\n'),
}


@pytest.mark.parametrize('key', sorted(TAMPERING))
def test_user_rewrite_is_refused_and_the_node_keeps_serving(cluster, key):
    mgr = cluster.mgr
    ini_before = mgr.app.node_config.path.read_bytes()
    passwd_before = _fingerprint(PASSWD)
    data_dir = pathlib.Path(mgr.app.data_dir)
    data_before = sorted(os.listdir(data_dir))
    pids = {n: mgr.app.runtime.pid(n) for n in ('chmpx', 'k2hdkc')}

    TAMPERING[key](cluster)
    for call in (lambda: mgr.refresh_config(None),
                 lambda: mgr.configure_node(None, **cluster.access)):
        with pytest.raises(errors.UntrustedConfigError) as info:
            call()
        assert '] %s' % key in str(info.value)
        assert str(PASSWD) not in str(info.value)

    assert mgr.app.node_config.path.read_bytes() == ini_before
    assert _fingerprint(PASSWD) == passwd_before
    assert not pathlib.Path(str(PASSWD) + '.purge').exists()
    assert sorted(os.listdir(data_dir)) == data_before
    assert {n: mgr.app.runtime.pid(n) for n in ('chmpx', 'k2hdkc')} == pids
    assert mgr.status.get_actual_db_status() == S.HEALTHY
    assert mgr.node_status(None)['self']['status']['code'] == 0x21


def test_purge_on_a_tampered_live_ini_touches_nothing(cluster, tmp_path):
    """An INI that names a file outside the data directory (left by an
    agent without these checks): purge_prepare refuses before it stops
    k2hdkc or renames anything."""
    mgr = cluster.mgr
    victim = tmp_path / 'outside' / 'victim'
    victim.parent.mkdir()
    victim.write_text('precious\n')
    live = mgr.app.node_config.path
    live.write_text(live.read_text().replace(
        str(tmp_path / 'data' / 'k2hdkc.k2h'), str(victim)))
    pids = {n: mgr.app.runtime.pid(n) for n in ('chmpx', 'k2hdkc')}

    with pytest.raises(errors.UntrustedConfigError,
                       match=r'\[K2HDKC\] K2HFILE: a path outside'):
        mgr.purge_prepare(None)

    assert victim.read_text() == 'precious\n'
    assert sorted(os.listdir(victim.parent)) == ['victim']
    assert {n: mgr.app.runtime.pid(n) for n in ('chmpx', 'k2hdkc')} == pids
    assert mgr.node_status(None)['self']['status']['code'] == 0x21
