"""Cluster nics in the form Trove acts on (``network_id``), or a 400.

Trove's cluster API reads only ``network_id``: a member asked for with
``net-id`` (the instance API's spelling) was checked against network
``None`` on create and refused as "got None" on grow, and a subnet-only
nic booted a member with no user port.
"""

from __future__ import annotations

from unittest import mock

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from neutronclient.common import exceptions as neutron_exceptions
import pytest
from trove.cluster.tasks import ClusterTasks
from trove.common import exception

from tests.unit.cluster import test_api as t
from trove_k2hdkc.cluster import api
from trove_k2hdkc.cluster import nics

# The fixtures of test_api: configuration, mocked Nova/Neutron checks
# and a real clusters table.
opts = t.opts
_db = t._db

NET = '11111111-1111-1111-1111-111111111111'
OTHER = '22222222-2222-2222-2222-222222222222'
SUBNET = '33333333-3333-3333-3333-333333333333'


@pytest.fixture(autouse=True)
def neutron():
    client = mock.Mock()

    def show_subnet(subnet_id):
        if subnet_id != SUBNET:
            raise neutron_exceptions.NotFound(message='no subnet')
        return {'subnet': {'id': SUBNET, 'network_id': NET}}
    client.show_subnet.side_effect = show_subnet
    with mock.patch.object(nics.clients, 'create_neutron_client',
                           return_value=client):
        yield client


def member(**nic):
    return {'flavor_id': '7', 'volume_size': 2, 'nics': [nic]}


@pytest.mark.parametrize('nic, expected', [
    ({'net-id': NET}, {'network_id': NET}),
    ({'network_id': NET}, {'network_id': NET}),
    ({'net-id': NET, 'network_id': NET}, {'network_id': NET}),
    ({'subnet_id': SUBNET}, {'network_id': NET, 'subnet_id': SUBNET}),
    ({'subnet_id': SUBNET, 'ip_address': '10.0.0.9'},
     {'network_id': NET, 'subnet_id': SUBNET, 'ip_address': '10.0.0.9'}),
])
def test_nics_become_network_id(nic, expected):
    requests = [member(**nic)]
    nics.normalise(None, requests)
    assert requests[0]['nics'] == [expected]


@pytest.mark.parametrize('requests, text', [
    ([member()], 'network_id'),
    ([member(**{'net-id': NET, 'network_id': OTHER})], 'different networks'),
    ([member(ip_address='10.0.0.9', network_id=NET)], 'needs the subnet_id'),
    ([member(subnet_id=OTHER)], 'subnet_id %s does not exist' % OTHER),
    ([member(subnet_id=SUBNET, network_id=OTHER)], 'is not on network'),
    ([member(subnet_id=SUBNET, ip_address='10.0.0.9')] * 2,
     'more than one member'),
    ([{'flavor_id': '7', 'nics': ['x']}], 'each nic is an object'),
    ([{'flavor_id': '7', 'nics': {'net-id': NET}}], 'list of one nic'),
])
def test_unusable_nics_are_400_saying_what_to_fix(requests, text):
    with pytest.raises(exception.BadRequest) as err:
        nics.normalise(None, requests)
    assert text in str(err.value)


@mock.patch.object(api.task_api, 'load')
@mock.patch.object(api.Instance, 'create')
@mock.patch.object(api.cluster_models.DBCluster, 'create')
def test_create_with_net_id_boots_members_on_that_network(
        db_create, inst_create, tm_load):
    db_create.return_value = mock.Mock(id='cid')
    db_create.return_value.name = 'c1'
    t.create([member(**{'net-id': NET}) for _ in range(2)])
    for call in inst_create.call_args_list:
        assert call.kwargs['nics'] == [{'network_id': NET}]
    checked = api.cluster_models.validate_instance_nics.call_args.args[1]
    assert [i['nics'] for i in checked] == [[{'network_id': NET}]] * 2


@pytest.mark.parametrize('requests', [
    [member(network_id=NET), member(network_id=OTHER)],
    [member(network_id=NET), {'flavor_id': '7', 'volume_size': 2}],
])
@mock.patch.object(api.cluster_models.DBCluster, 'create')
def test_create_on_several_networks_is_400(db_create, requests):
    with pytest.raises(exception.BadRequest) as err:
        t.create(requests)
    assert 'one network' in str(err.value)
    db_create.assert_not_called()


@mock.patch.object(api.task_api, 'load')
@mock.patch.object(api.Instance, 'create')
def test_grow_with_net_id_of_the_cluster_network_is_accepted(
        inst_create, tm_load):
    inst_create.return_value = mock.Mock(id='new')
    c = t.cluster()
    here = api.placement.Placement(frozenset({NET}), None, frozenset())
    with mock.patch.object(api.placement, 'of_members', return_value=here), \
            mock.patch.object(api.placement, 'server_group',
                              return_value=None):
        c.grow([member(**{'net-id': NET})])
    assert inst_create.call_args.kwargs['nics'] == [{'network_id': NET}]
    assert t.task_in_db(c.id) == ClusterTasks.GROWING_CLUSTER


_uuid = st.sampled_from([NET, OTHER, SUBNET]) | st.uuids().map(str)
_nic = st.fixed_dictionaries({}, optional={
    'net-id': _uuid, 'network_id': _uuid, 'subnet_id': _uuid,
    'ip_address': st.sampled_from(['10.0.0.9', '10.0.0.10'])})
_junk = st.recursive(st.none() | st.integers() | st.text(max_size=5),
                     lambda inner: st.lists(inner, max_size=2)
                     | st.dictionaries(st.text(max_size=3), inner,
                                       max_size=2), max_leaves=4)


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.fixed_dictionaries({'flavor_id': st.just('7')}, optional={
    'nics': st.lists(_nic, max_size=2) | _junk}), min_size=1, max_size=3))
def test_any_nics_are_normalised_or_refused_with_400(neutron, requests):
    """Whatever the body holds, the answer is the normal form or a 400,
    never another error (a 500 at the API)."""
    try:
        nics.normalise(None, requests)
    except exception.BadRequest as err:
        assert 'nic' in str(err)
        return
    for request in requests:
        for nic in request.get('nics', []):
            assert set(nic) <= {'network_id', 'subnet_id', 'ip_address'}
            assert nic['network_id']
