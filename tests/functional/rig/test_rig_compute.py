"""A server booted through the rig's Nova is a namespace + guest agent."""

from __future__ import annotations

import base64
import subprocess
import sys
import uuid

import pytest
import yaml

from tests.rig import clients
from tests.rig import config
from tests.rig import netns
from tests.rig import procs
from tests.rig import services
from tests.rig import state
from tests.rig import vm

pytestmark = pytest.mark.rig


def _cloud_config(files: dict[str, str]) -> str:
    """The same cloud-config shape Trove's prepare_cloud_config writes."""
    entries = [{'encoding': 'b64', 'owner': 'root:root', 'path': path,
                'content': base64.b64encode(text.encode()).decode()}
               for path, text in files.items()]
    return '#cloud-config\n' + yaml.dump({'write_files': entries})


def _guest_files(rig, guest_id: str) -> dict[str, str]:
    guest_info = (
        '[DEFAULT]\nguest_id=%s\ndatastore_manager=k2hdkc\n'
        'datastore_version=%s\ntenant_id=%s\n'
        'datastore_registry_ext=k2hdkc:%s\nnetwork_isolation=False\n'
        % (guest_id, config.SELFTEST_VERSION, rig.info['project_id'],
           config.SELFTEST_MANAGER))
    agent_conf = (rig.state_dir / 'trove-guestagent.conf').read_text()
    return {'/etc/trove/conf.d/guest_info.conf': guest_info,
            '/etc/trove/conf.d/trove-guestagent.conf': agent_conf}


def _wait(check, what: str, timeout: float = 60) -> None:
    procs.wait_until(check, timeout, what, interval=1)


@pytest.fixture
def rig_env(trove_rig, monkeypatch):
    monkeypatch.setenv(state.ENV_STATE_DIR, str(trove_rig.state_dir))
    return trove_rig


def test_server_boots_namespace_with_guest_agent(rig_env):
    rig = rig_env
    nova = clients.nova_client()
    guest_id = str(uuid.uuid4())
    server = nova.servers.create(
        'rig-selftest', config.IMAGE_ID, '1',
        userdata=_cloud_config(_guest_files(rig, guest_id)),
        nics=[{'net-id': rig.info['network']['id']}])
    key = nova.servers.get(server.id).key
    ns = netns.ns_name(rig.info['name'], key)
    listener = None
    try:
        assert ns in netns.list_namespaces(rig.info['name'])
        _wait(lambda: nova.servers.get(server.id).status == 'ACTIVE',
              'server ACTIVE')
        addr = nova.servers.get(server.id).addresses[
            rig.info['network']['name']][0]['addr']
        ports = clients.neutron_client().list_ports(device_id=server.id)
        assert [ip['ip_address'] for p in ports['ports']
                for ip in p['fixed_ips']] == [addr]

        # The address is the VM's own: a listener inside the namespace
        # is reachable from the host over the bridge.
        listener = subprocess.Popen(
            ['ip', 'netns', 'exec', ns, sys.executable, '-c',
             'import socket; s = socket.create_server(("%s", 8020)); '
             'c, _ = s.accept(); c.sendall(b"vm")' % addr])
        _wait(lambda: procs.tcp_open(addr, 8020), 'TCP into the VM', 20)

        # Trove's real guest agent in the VM reached RabbitMQ: its RPC
        # queue exists in the rig vhost.
        queue = 'guestagent.%s' % guest_id
        _wait(lambda: queue in services.rabbit_queues(
            rig.info['rabbit_vhost']), 'queue %s' % queue)
        agent = vm.agent_pid(rig.state_dir, key)
        assert agent in netns.ns_pids(ns)
    finally:
        if listener is not None:
            listener.kill()
            listener.wait()
        nova.servers.delete(server.id)

    assert ns not in netns.list_namespaces(rig.info['name'])
    assert not procs.alive(agent)
    assert not (rig.state_dir / 'vms' / key).exists()
    assert clients.neutron_client().list_ports(device_id=server.id) == {
        'ports': []}
    with pytest.raises(Exception, match='Not found'):
        nova.servers.get(server.id)


def test_trove_instance_create_reaches_guest_and_back(rig_env):
    """API -> taskmanager -> rig Nova -> guest prepare -> conductor."""
    rig = rig_env
    created = rig.openstack(
        'database', 'instance', 'create', 'rig-e2e', '--flavor', '1',
        '--size', '1', '--datastore', 'k2hdkc', '--datastore-version',
        config.SELFTEST_VERSION, '--nic',
        'net-id=' + rig.info['network']['id'])
    inst_id = created['id']
    shown = {}

    def active() -> bool:
        shown.update(rig.openstack('database', 'instance', 'show',
                                   inst_id))
        assert shown['status'] != 'ERROR', shown.get('fault')
        return shown['status'] == 'ACTIVE'

    try:
        _wait(active, 'instance ACTIVE', 120)
        assert shown['operating_status'] == 'HEALTHY'
        addresses = shown.get('addresses') or shown.get('ip')
        assert rig.info['network']['cidr'].rsplit('.', 2)[0] in str(
            addresses)
    finally:
        rig.openstack('database', 'instance', 'delete', inst_id,
                      parse=False)

    def gone() -> bool:
        listed = rig.openstack('database', 'instance', 'list')
        return inst_id not in [i['ID'] for i in listed]

    _wait(gone, 'instance deleted', 60)
    _wait(lambda: not netns.list_namespaces(rig.info['name']),
          'namespaces removed', 30)
