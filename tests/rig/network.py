"""A neutronclient look-alike for the rig (``remote_neutron_client``).

One network with one IPv4 subnet (the rig bridge). Ports hold the
addresses; Trove reads an instance's addresses from
``list_ports(device_id=<server id>)``, so binding a port to a server is
what makes the address visible. Floating IPs do not exist here.
"""

from __future__ import annotations

import ipaddress
from typing import Any
import uuid

from neutronclient.common import exceptions as neutron_exc

from tests.rig import state


def _mac(port_id: str) -> str:
    raw = port_id.replace('-', '')[:10]
    return 'fa:16:' + ':'.join(raw[i:i + 2] for i in range(0, 8, 2))


def _free_ip(cloud: dict[str, Any], info: dict[str, Any]) -> str:
    used = {ip['ip_address'] for port in cloud['ports'].values()
            for ip in port['fixed_ips']}
    net = ipaddress.ip_network(info['network']['cidr'])
    for host in list(net.hosts())[info['network']['pool_start']:]:
        if str(host) not in used and str(host) != info['network']['gateway']:
            return str(host)
    raise neutron_exc.IpAddressGenerationFailureClient()


def new_port(cloud: dict[str, Any], info: dict[str, Any],
             body: dict[str, Any]) -> dict[str, Any]:
    net = info['network']
    network_id = body.get('network_id') or net['id']
    if network_id != net['id']:
        raise neutron_exc.NetworkNotFoundClient(
            message='Network %s could not be found.' % network_id)
    wanted = (body.get('fixed_ips') or [{}])[0].get('ip_address')
    port_id = str(uuid.uuid4())
    port = {
        'id': port_id, 'name': body.get('name', ''),
        'description': body.get('description', ''),
        'network_id': network_id, 'device_id': '', 'device_owner': '',
        'mac_address': _mac(port_id), 'status': 'DOWN',
        'admin_state_up': True,
        'security_groups': list(body.get('security_groups') or []),
        'project_id': body.get('project_id', ''),
        'fixed_ips': [{'subnet_id': net['subnet_id'],
                       'ip_address': wanted or _free_ip(cloud, info)}],
    }
    cloud['ports'][port_id] = port
    return port


def bind_nics(cloud: dict[str, Any], info: dict[str, Any], server_id: str,
              nics: list[dict] | None) -> list[str]:
    """Attach the requested ports (or new ones) to ``server_id``."""
    port_ids = []
    for nic in nics or [{}]:
        port_id = nic.get('port-id')
        if port_id:
            if port_id not in cloud['ports']:
                raise neutron_exc.PortNotFoundClient(
                    message='Port %s could not be found.' % port_id)
            port = cloud['ports'][port_id]
        else:
            net_id = nic.get('net-id') or nic.get('network_id')
            port = new_port(cloud, info, {'network_id': net_id,
                                          'name': ''})
            port['auto'] = True
        port.update(device_id=server_id, device_owner='compute:nova',
                    status='ACTIVE')
        port_ids.append(port['id'])
    return port_ids


def unbind_server(cloud: dict[str, Any], server_id: str) -> None:
    """Like Nova: delete ports it created, release the others."""
    for port_id, port in list(cloud['ports'].items()):
        if port['device_id'] != server_id:
            continue
        if port.get('auto'):
            del cloud['ports'][port_id]
        else:
            port.update(device_id='', device_owner='', status='DOWN')


def server_addresses(cloud: dict[str, Any], server_id: str
                     ) -> dict[str, list[dict[str, Any]]]:
    """Nova's ``server.addresses`` shape for the ports bound to a server."""
    out: dict[str, list[dict[str, Any]]] = {}
    info = state.rig_info()
    for port in cloud['ports'].values():
        if port['device_id'] != server_id:
            continue
        for ip in port['fixed_ips']:
            out.setdefault(info['network']['name'], []).append(
                {'addr': ip['ip_address'], 'version': 4,
                 'OS-EXT-IPS:type': 'fixed',
                 'OS-EXT-IPS-MAC:mac_addr': port['mac_address']})
    return out


def _match(item: dict[str, Any], filters: dict[str, Any]) -> bool:
    for key, value in filters.items():
        if key == 'fixed_ips':
            wanted = dict(p.split('=', 1) for p in
                          ([value] if isinstance(value, str) else value))
            if not any(all(ip.get(k) == v for k, v in wanted.items())
                       for ip in item.get('fixed_ips', [])):
                return False
        elif key in ('fields', 'retrieve_all'):
            continue
        elif item.get(key) != value:
            return False
    return True


class Client:
    """What ``create_neutron_client(context, region_name)`` returns."""

    def _info(self) -> dict[str, Any]:
        return state.rig_info()

    def _network(self) -> dict[str, Any]:
        net = self._info()['network']
        return {'id': net['id'], 'name': net['name'], 'status': 'ACTIVE',
                'subnets': [net['subnet_id']], 'admin_state_up': True,
                'router:external': False, 'shared': True, 'mtu': 1500}

    def _subnet(self) -> dict[str, Any]:
        net = self._info()['network']
        return {'id': net['subnet_id'], 'network_id': net['id'],
                'name': net['name'] + '-subnet', 'ip_version': 4,
                'cidr': net['cidr'], 'gateway_ip': net['gateway'],
                'host_routes': [], 'enable_dhcp': True}

    def list_networks(self, **filters: Any) -> dict[str, Any]:
        nets = [n for n in [self._network()] if _match(n, filters)]
        return {'networks': nets}

    def show_network(self, network_id: str, **_: Any) -> dict[str, Any]:
        net = self._network()
        if network_id != net['id']:
            raise neutron_exc.NetworkNotFoundClient(
                message='Network %s could not be found.' % network_id)
        return {'network': net}

    def find_resource(self, resource: str, name_or_id: str,
                      **_: Any) -> dict[str, Any]:
        if resource == 'network':
            net = self._network()
            if name_or_id in (net['id'], net['name']):
                return net
        raise neutron_exc.NotFound(
            message='Unable to find %s with name or id %s'
            % (resource, name_or_id))

    def list_subnets(self, **filters: Any) -> dict[str, Any]:
        return {'subnets': [s for s in [self._subnet()]
                            if _match(s, filters)]}

    def show_subnet(self, subnet_id: str, **_: Any) -> dict[str, Any]:
        sub = self._subnet()
        if subnet_id != sub['id']:
            raise neutron_exc.NotFound(message='Subnet %s not found'
                                       % subnet_id)
        return {'subnet': sub}

    def create_port(self, body: dict[str, Any]) -> dict[str, Any]:
        with state.locked_cloud() as cloud:
            return {'port': new_port(cloud, self._info(), body['port'])}

    def show_port(self, port_id: str, **_: Any) -> dict[str, Any]:
        port = state.read_cloud()['ports'].get(port_id)
        if port is None:
            raise neutron_exc.PortNotFoundClient(
                message='Port %s could not be found.' % port_id)
        return {'port': port}

    def _router_port(self) -> dict[str, Any]:
        """The bridge address plays the subnet's router interface."""
        net = self._info()['network']
        return {'id': str(uuid.uuid5(uuid.NAMESPACE_URL, net['id'])),
                'name': '', 'network_id': net['id'],
                'device_id': 'rig-router',
                'device_owner': 'network:router_interface',
                'mac_address': 'fa:16:3e:00:00:01', 'status': 'ACTIVE',
                'security_groups': [],
                'fixed_ips': [{'subnet_id': net['subnet_id'],
                               'ip_address': net['gateway']}]}

    def list_ports(self, **filters: Any) -> dict[str, Any]:
        ports = [self._router_port()] + list(
            state.read_cloud()['ports'].values())
        return {'ports': [p for p in ports if _match(p, filters)]}

    def update_port(self, port_id: str, body: dict[str, Any]
                    ) -> dict[str, Any]:
        with state.locked_cloud() as cloud:
            port = cloud['ports'].get(port_id)
            if port is None:
                raise neutron_exc.PortNotFoundClient(
                    message='Port %s could not be found.' % port_id)
            port.update(body.get('port', {}))
            return {'port': port}

    def delete_port(self, port_id: str) -> None:
        with state.locked_cloud() as cloud:
            if cloud['ports'].pop(port_id, None) is None:
                raise neutron_exc.PortNotFoundClient(
                    message='Port %s could not be found.' % port_id)

    def list_floatingips(self, **_: Any) -> dict[str, Any]:
        return {'floatingips': []}

    def create_floatingip(self, body: dict[str, Any]) -> dict[str, Any]:
        raise neutron_exc.ExternalIpAddressExhaustedClient(
            message='The rig has no public network.')

    def delete_floatingip(self, fip_id: str) -> None:
        raise neutron_exc.NotFound(message='Floating IP %s not found'
                                   % fip_id)

    def list_extensions(self, **_: Any) -> dict[str, Any]:
        return {'extensions': []}

    def create_security_group(self, body: dict[str, Any]) -> dict[str, Any]:
        group = dict(body['security_group'], id=str(uuid.uuid4()),
                     security_group_rules=[])
        with state.locked_cloud() as cloud:
            cloud['security_groups'][group['id']] = group
        return {'security_group': group}

    def create_security_group_rule(self, body: dict[str, Any]
                                   ) -> dict[str, Any]:
        rule = dict(body['security_group_rule'], id=str(uuid.uuid4()))
        with state.locked_cloud() as cloud:
            group = cloud['security_groups'].get(rule['security_group_id'])
            if group is None:
                raise neutron_exc.NotFound(message='Security group not '
                                           'found')
            group['security_group_rules'].append(rule)
        return {'security_group_rule': rule}

    def list_security_groups(self, **filters: Any) -> dict[str, Any]:
        groups = state.read_cloud()['security_groups'].values()
        return {'security_groups': [g for g in groups
                                    if _match(g, filters)]}

    def list_security_group_rules(self, **filters: Any) -> dict[str, Any]:
        rules = [r for g in state.read_cloud()['security_groups'].values()
                 for r in g['security_group_rules']]
        return {'security_group_rules': [r for r in rules
                                         if _match(r, filters)]}

    def delete_security_group_rule(self, rule_id: str) -> None:
        with state.locked_cloud() as cloud:
            for group in cloud['security_groups'].values():
                group['security_group_rules'] = [
                    r for r in group['security_group_rules']
                    if r['id'] != rule_id]

    def delete_security_group(self, group_id: str) -> None:
        with state.locked_cloud() as cloud:
            if cloud['security_groups'].pop(group_id, None) is None:
                raise neutron_exc.NotFound(message='Security group %s not '
                                           'found' % group_id)
