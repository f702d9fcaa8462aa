"""The network a cluster request names, in the one form Trove acts on.

Trove's instance API turns ``net-id`` into ``network_id`` and a bare
``subnet_id`` into its network (``_check_nic``); its cluster API does
neither. A cluster member asked for with ``net-id`` was checked against
network ``None`` and then booted with no user port, and one with only a
subnet was never checked at all. Here every member's nic is checked and
rewritten to ``network_id`` (plus the subnet and address it asked for)
before any other check reads it; what cannot be fixed up is a 400 that
says what to change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neutronclient.common import exceptions as neutron_exceptions
from trove.common import clients
from trove.common import exception


def _refuse(text: str) -> exception.BadRequest:
    return exception.BadRequest(message=text)


def _subnet_network(context: Any, subnet_id: str) -> str:
    client = clients.create_neutron_client(context)
    try:
        return client.show_subnet(subnet_id)['subnet']['network_id']
    except neutron_exceptions.NotFound as exc:
        raise _refuse('nics: subnet_id %s does not exist; name a subnet of '
                      'your network or drop subnet_id.' % subnet_id) from exc


def _one(context: Any, nic: Any) -> dict:
    if not isinstance(nic, dict):
        raise _refuse('nics: each nic is an object such as '
                      '{"network_id": "<uuid>"}; got %r.' % (nic,))
    named = {str(n) for n in (nic.get('network_id'), nic.get('net-id'))
             if n is not None}
    if len(named) > 1:
        raise _refuse('nics: net-id and network_id name different networks '
                      '(%s); give one of them.' % ', '.join(sorted(named)))
    network = named.pop() if named else None
    subnet = nic.get('subnet_id')
    address = nic.get('ip_address')
    if not network and not subnet:
        raise _refuse('nics: name the members\' network with network_id '
                      '(or net-id, or a subnet_id of it).')
    if address and not subnet:
        raise _refuse('nics: ip_address %s needs the subnet_id it belongs '
                      'to.' % address)
    if subnet:
        actual = _subnet_network(context, subnet)
        if network and actual != network:
            raise _refuse('nics: subnet_id %s is not on network %s (it is on '
                          '%s); fix either.' % (subnet, network, actual))
        network = actual
    out: dict[str, Any] = {'network_id': network}
    if subnet:
        out['subnet_id'] = subnet
    if address:
        out['ip_address'] = address
    return out


def normalise(context: Any, instances: Sequence[dict]) -> None:
    """Rewrite each request's ``nics`` in place to ``network_id`` form;
    raises ``BadRequest`` naming what to fix. Two members cannot share
    one fixed address."""
    addresses: list[str] = []
    for request in instances:
        nics = request.get('nics')
        if not nics:
            request.pop('nics', None)
            continue
        if not isinstance(nics, list):
            raise _refuse('nics is a list of one nic object; got %r.'
                          % (nics,))
        request['nics'] = [_one(context, nic) for nic in nics]
        addresses += [n['ip_address'] for n in request['nics']
                      if 'ip_address' in n]
    shared = sorted({a for a in addresses if addresses.count(a) > 1})
    if shared:
        raise _refuse('nics: ip_address %s is asked for by more than one '
                      'member; give each member its own address or none.'
                      % ', '.join(shared))

