"""Where a cluster's members live, and where grow may add new ones.

A member on another network cannot reach the ring's ports; one in
another region or availability zone changes the failure domain the
members were placed for. Trove checks none of this beyond the network
of members that name one, so create requires one network, region and
availability zone of all members (400 naming each value and its
members), and grow compares the new members with what Nova and Neutron
say about the existing ones: a field the request names must match (400
naming the field and the expected value); a field it leaves out is
filled in from the cluster when the cluster has a single value for it.

Trove creates one server group per cluster (``locality_<name>``) but
finds a member's group by the member's own id, which never matches, so
grow used no group and anti-affinity did not hold for new members. The
cluster's group is the one that holds its existing servers.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
import dataclasses
from typing import Any

from trove.common import cfg
from trove.common import clients
from trove.common import exception
from trove.common import neutron

CONF = cfg.CONF

AZ_ATTRIBUTE = 'OS-EXT-AZ:availability_zone'


@dataclasses.dataclass(frozen=True)
class Placement:
    """What the existing members share; an empty set means unknown."""

    networks: frozenset[str]
    region: str | None
    zones: frozenset[str]


def _region(member: Any) -> str | None:
    """An instance without a region lives in Trove's own region."""
    return member.region_id or CONF.service_credentials.region_name


def _user_networks(ports: Iterable[dict]) -> set[str]:
    return {port['network_id'] for port in ports
            if port['network_id'] not in CONF.management_networks}


def of_members(context: Any, members: Sequence[Any]) -> Placement:
    """Ask Nova and Neutron about each member's server; a member with
    no server yet says nothing about placement."""
    regions = {_region(m) for m in members}
    region = regions.pop() if len(regions) == 1 else None
    networks: set[str] = set()
    zones: set[str] = set()
    for member in members:
        if not member.compute_instance_id:
            continue
        nova = clients.create_nova_client(context, _region(member))
        server = nova.servers.get(member.compute_instance_id)
        zone = getattr(server, AZ_ATTRIBUTE, None)
        if zone:
            zones.add(zone)
        client = clients.create_neutron_client(context, _region(member))
        networks |= _user_networks(neutron.get_instance_ports(
            client, member.compute_instance_id))
    return Placement(frozenset(networks), region, frozenset(zones))


def _refuse_mixed(field: str, values: Sequence[str | None],
                  fix: str) -> None:
    """``values[i]`` is what member i + 1 of the request asks for."""
    members: dict[str, list[str]] = {}
    for number, value in enumerate(values, 1):
        members.setdefault(value or 'none', []).append(str(number))
    if len(members) > 1:
        raise exception.BadRequest(message=(
            'All members of a cluster must share one %s: got %s. %s'
            % (field, '; '.join(
                '%s (member%s %s)' % (value, 's' if len(n) > 1 else '',
                                      ', '.join(n))
                for value, n in members.items()), fix)))


def same_place(requests: Sequence[dict]) -> None:
    """At create: one network (every member names the same nics, or
    none does), one region (a member that names none is in Trove's) and
    one availability zone (named by every member or by none); raises
    ``BadRequest`` naming each value and the members asking for it.
    Run after ``nics.normalise``."""
    _refuse_mixed('network (nics network_id)', [
        ', '.join(nic['network_id'] for nic in r.get('nics') or [])
        for r in requests],
        'Give every member the same nics, or none.')
    here = CONF.service_credentials.region_name
    _refuse_mixed('region_name', [r.get('region_name') or here
                                  for r in requests],
                  'Give every member the same region_name, or none (%s).'
                  % here)
    _refuse_mixed('availability_zone',
                  [r.get('availability_zone') for r in requests],
                  'Give every member the same availability_zone, or none.')


def _refuse(field: str, got: Any, expected: Iterable[str]) -> None:
    raise exception.BadRequest(message=(
        'New members must share the cluster\'s %s: got %s, expected %s.'
        % (field, got, ' or '.join(sorted(expected)))))


def fit(requests: Sequence[dict], where: Placement) -> None:
    """Check each requested member against ``where`` and fill in what it
    leaves out; raises ``BadRequest`` naming the field."""
    for request in requests:
        nets = [nic.get('network_id') for nic in request.get('nics') or []]
        if nets and where.networks and set(nets) != where.networks:
            _refuse('network (nics network_id)', ', '.join(map(str, nets)),
                    [', '.join(sorted(where.networks))])
        if not nets and len(where.networks) == 1:
            request['nics'] = [{'network_id': next(iter(where.networks))}]
        zone = request.get('availability_zone')
        if zone and where.zones and zone not in where.zones:
            _refuse('availability_zone', zone, where.zones)
        if not zone and len(where.zones) == 1:
            request['availability_zone'] = next(iter(where.zones))
        region = request.get('region_name')
        if region and where.region and region != where.region:
            _refuse('region_name', region, [where.region])
        if not region and where.region:
            request['region_name'] = where.region


def server_group(context: Any, members: Sequence[Any]) -> Any:
    """The Nova server group holding any existing member's server, or
    None when the cluster was created without locality."""
    servers = {m.compute_instance_id for m in members
               if m.compute_instance_id}
    if not servers:
        return None
    nova = clients.create_nova_client(context)
    for group in nova.server_groups.list():
        if servers & set(group.members):
            return group
    return None
