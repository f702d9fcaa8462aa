"""Ring-wide parameters are recorded at create and read back later
(doc/k2hr3-layout.md §1): a changed configuration shapes new clusters
only, and a record the project's user broke stops the operation.  Each
test runs on the stand-in and on a real K2HR3 when one is named
(backends)."""

from __future__ import annotations

import uuid

import pytest

from tests.functional.k2hr3 import ini_check
from trove_k2hdkc.cluster.registry import K2hr3Registry
from trove_k2hdkc.cluster.registry import RegistryError
from trove_k2hdkc.k2hr3 import ClusterK2hr3
from trove_k2hdkc.k2hr3 import ClusterSettings
from trove_k2hdkc.k2hr3 import models


@pytest.fixture
def session(backend):
    client, token = backend.client, backend.token
    made = []
    # Fresh ids: a real K2HR3 is shared with other runs.
    first, other = str(uuid.uuid4()), str(uuid.uuid4())

    def registry(settings, cluster_id=None):
        """What ``registry_from_conf`` builds with ``settings`` as the
        configuration's."""
        objects = ClusterK2hr3(client, token, cluster_id or first, settings)
        made.append(objects)
        return K2hr3Registry(objects=objects, api_url='https://k2hr3')

    yield client, token, registry, other
    for objects in made:
        objects.teardown()


def rendered_global(client, access):
    text = client.read_resource_by_role(
        access.role_token, models.Yrn.parse(access.resource_yrn))
    return ini_check.sections(ini_check.parse(text), 'GLOBAL')[0]


def test_later_provision_keeps_the_recorded_replica(session):
    client, _, registry, _ = session
    created = registry(ClusterSettings(replica=1))
    created.provision()
    created.objects.add_member('server', '10.0.0.1', 'inst-1')
    # trove.conf now says REPLICA 2 and other ports; a grow of the
    # existing cluster reads the record and provisions with it.
    later = registry(ClusterSettings(replica=2, server_port=9020,
                                     server_ctlport=9021))
    ring = later.ring_settings()
    assert (ring.replica, ring.server_port, ring.server_ctlport) == (
        1, 8020, 8021)
    glob = rendered_global(client, later.provision(ring))
    assert (glob['REPLICA'], glob['PORT'], glob['CTLPORT']) == (
        '1', '8020', '8021')


def test_new_cluster_takes_the_new_configuration(session):
    client, _, registry, other = session
    registry(ClusterSettings(replica=1)).provision()
    new = registry(ClusterSettings(replica=2), other)
    glob = rendered_global(client, new.provision())
    assert glob['REPLICA'] == '2'
    assert new.ring_settings().replica == 2


@pytest.mark.parametrize('key, value, why', [
    ('chmpx-replica', 'x', 'chmpx-replica is str, not an integer'),
    ('chmpx-replica', True, 'chmpx-replica is bool'),
    ('chmpx-replica', 300, 'replica must be'),
    ('k2hdkc-k2hfile', '/var/../etc/passwd', 'K2HFILE'),
    ('cluster-name', 'k2hdkc-someone-else', 'cluster-name'),
    ('chmpx-server-port', None, 'chmpx-server-port is missing'),
])
def test_a_broken_record_is_refused(session, key, value, why):
    """The project's user rewrote a key with their own token: nothing
    is provisioned from it and the error names the key."""
    client, token, registry, _ = session
    created = registry(ClusterSettings())
    created.provision()
    name = created.objects.names.name
    keys = dict(client.get_resource(token, name).keys)
    if value is None:
        del keys[key]
    else:
        keys[key] = value
    client.put_resource(token, name, keys=keys)
    with pytest.raises(RegistryError, match='ring parameters') as info:
        registry(ClusterSettings()).ring_settings()
    assert why in str(info.value)
    assert client.get_resource(token, name).keys == keys


@pytest.mark.parametrize('old, new, named', [
    ('K2HINIT             = no\n',
     'K2HINIT             = no\nATTRPLUGIN = /tmp/evil.so\n',
     '(ATTRPLUGIN)'),
    ('GROUP               = {{= %cluster-name% }}',
     'GROUP               = ../{{= %cluster-name% }}', '(GROUP)'),
    ('K2HFILE             = {{= %k2hdkc-k2hfile% }}',
     'K2HFILE             = /etc/passwd', '(K2HFILE)'),
    ('K2HINIT             = no\n', '', 'missing'),
])
def test_an_edited_template_is_refused(session, old, new, named):
    """The project's user edited the template with their own token: the
    operation stops before it uses or rewrites it, naming the line's key
    (doc/k2hr3-layout.md §5), and the edit stays for the user to see."""
    client, token, registry, _ = session
    created = registry(ClusterSettings())
    created.provision()
    name = created.objects.names.name
    data = client.get_resource(token, name).string
    assert old in data
    edited = data.replace(old, new, 1)
    client.put_resource(token, name, data=edited)
    with pytest.raises(RegistryError, match='INI template') as info:
        registry(ClusterSettings()).ring_settings()
    assert named in str(info.value)
    assert 'evil' not in str(info.value)
    assert client.get_resource(token, name).string == edited
    client.put_resource(token, name, data=data)
    assert registry(ClusterSettings()).ring_settings().replica == 1
