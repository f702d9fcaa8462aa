"""Create places every member in one place; grow places new members
where the cluster is, in its server group."""

from __future__ import annotations

from unittest import mock

import pytest
from trove.common import cfg
from trove.common import exception

from trove_k2hdkc.cluster import placement
from trove_k2hdkc.cluster.placement import Placement

CONF = cfg.CONF
HERE = Placement(frozenset({'net-a'}), 'RegionOne', frozenset({'az1'}))


@pytest.mark.parametrize('request_, field, expected', [
    ({'nics': [{'network_id': 'net-b'}]}, 'network', 'net-a'),
    ({'nics': [{'network_id': 'net-a'}, {'network_id': 'net-c'}]},
     'network', 'net-a'),
    ({'availability_zone': 'az2'}, 'availability_zone', 'az1'),
    ({'region_name': 'RegionTwo'}, 'region_name', 'RegionOne'),
])
def test_a_member_elsewhere_is_400_naming_field_and_expected(
        request_, field, expected):
    with pytest.raises(exception.BadRequest) as err:
        placement.fit([{'flavor_id': '7'}, dict(request_)], HERE)
    text = str(err.value)
    assert field in text and 'expected %s' % expected in text


def test_what_the_request_leaves_out_comes_from_the_cluster():
    requests = [{'flavor_id': '7'},
                {'flavor_id': '7', 'nics': [{'network_id': 'net-a'}],
                 'availability_zone': 'az1', 'region_name': 'RegionOne'}]
    placement.fit(requests, HERE)
    for r in requests:
        assert r['nics'] == [{'network_id': 'net-a'}]
        assert r['availability_zone'] == 'az1'
        assert r['region_name'] == 'RegionOne'


def test_unknown_or_mixed_placement_is_neither_checked_nor_filled():
    mixed = Placement(frozenset({'net-a', 'net-b'}), None,
                      frozenset({'az1', 'az2'}))
    request = {'flavor_id': '7', 'availability_zone': 'az2'}
    placement.fit([request], mixed)
    assert request == {'flavor_id': '7', 'availability_zone': 'az2'}


@pytest.mark.parametrize('requests, text', [
    ([{}, {'region_name': 'RegionTwo'}],
     'region_name: got RegionOne (member 1); RegionTwo (member 2). Give '
     'every member the same region_name, or none (RegionOne).'),
    ([{'availability_zone': 'az1'}, {'availability_zone': 'az2'},
      {'availability_zone': 'az1'}],
     'availability_zone: got az1 (members 1, 3); az2 (member 2).'),
    ([{'availability_zone': 'az1'}, {}],
     'availability_zone: got az1 (member 1); none (member 2).'),
    ([{'nics': [{'network_id': 'net-a'}]}, {}],
     'one network (nics network_id): got net-a (member 1); none '
     '(member 2). Give every member the same nics, or none.'),
])
def test_create_in_several_places_is_400_naming_the_members(requests,
                                                            text):
    with pytest.raises(exception.BadRequest) as err:
        placement.same_place(requests)
    assert text in str(err.value)


def test_create_in_one_place_is_accepted_as_asked():
    requests = [{'region_name': 'RegionOne', 'availability_zone': 'az1',
                 'nics': [{'network_id': 'net-a'}]},
                {'availability_zone': 'az1',
                 'nics': [{'network_id': 'net-a'}]}]
    placement.same_place(requests)
    assert 'region_name' not in requests[1]
    placement.same_place([{}, {}])


def member(server, region=None):
    return mock.Mock(compute_instance_id=server, region_id=region)


def test_of_members_reads_nova_and_neutron():
    CONF.set_override('management_networks', ['mgmt'])
    servers = {'s1': mock.Mock(**{placement.AZ_ATTRIBUTE: 'az1'}),
               's2': mock.Mock(**{placement.AZ_ATTRIBUTE: 'az1'})}
    ports = {'s1': [{'network_id': 'net-a'}, {'network_id': 'mgmt'}],
             's2': [{'network_id': 'net-a'}]}
    nova = mock.Mock()
    nova.servers.get.side_effect = servers.__getitem__
    neutron = mock.Mock()
    neutron.list_ports.side_effect = lambda device_id: {
        'ports': ports[device_id]}
    try:
        with mock.patch.object(placement.clients, 'create_nova_client',
                               return_value=nova), \
                mock.patch.object(placement.clients, 'create_neutron_client',
                                  return_value=neutron):
            where = placement.of_members(
                None, [member('s1', 'RegionOne'), member('s2', 'RegionOne'),
                       member(None, 'RegionOne')])
    finally:
        CONF.clear_override('management_networks')
    assert where == HERE


def test_server_group_is_the_one_holding_the_members():
    groups = [mock.Mock(id='other', members=['x']),
              mock.Mock(id='sg-1', members=['s2', 's9'])]
    nova = mock.Mock()
    nova.server_groups.list.return_value = groups
    with mock.patch.object(placement.clients, 'create_nova_client',
                           return_value=nova):
        assert placement.server_group(
            None, [member('s1'), member('s2')]).id == 'sg-1'
        assert placement.server_group(None, [member('s7')]) is None
