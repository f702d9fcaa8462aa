"""A novaclient look-alike that boots rig VMs (``remote_nova_client``).

Implements what Trove 26 calls on ``create_nova_client()``: flavors
get/list, servers create/get/list/delete (+ ``Server.delete``),
server_groups create/list/get/delete and ``api_version``. Errors are
novaclient's own exception classes, because Trove catches those.
"""

from __future__ import annotations

import datetime
import shutil
from typing import Any
import uuid

from novaclient import api_versions
from novaclient import exceptions as nova_exc

from tests.rig import network
from tests.rig import state
from tests.rig import vm
from tests.standins.dataplane import faults

API_VERSION = '2.60'


class Resource:
    """Attribute bag like novaclient's resources (no manager reference)."""

    def __init__(self, info: dict[str, Any]):
        self._info = dict(info)
        for key, value in info.items():
            setattr(self, key, value)

    def to_dict(self) -> dict[str, Any]:
        return dict(self._info)

    def __repr__(self) -> str:
        return '<%s %s>' % (type(self).__name__, self._info.get('id'))


class Flavor(Resource):
    pass


class ServerGroup(Resource):
    pass


class Server(Resource):
    def __init__(self, info: dict[str, Any], manager: ServerManager):
        super().__init__(info)
        self._manager = manager

    def delete(self) -> None:
        self._manager.delete(self.id)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime(
        '%Y-%m-%dT%H:%M:%SZ')


class FlavorManager:
    def list(self, detailed: bool = True, **kwargs: Any) -> list[Flavor]:
        return [Flavor(f) for f in state.rig_info()['flavors']]

    def get(self, flavor: Any) -> Flavor:
        flavor_id = str(getattr(flavor, 'id', flavor))
        for item in state.rig_info()['flavors']:
            if item['id'] == flavor_id:
                return Flavor(item)
        raise nova_exc.NotFound(404, 'Flavor %s could not be found.'
                                % flavor_id)


class ServerGroupManager:
    def create(self, name: str, policies: list[str] | None = None,
               policy: str | None = None, **kwargs: Any) -> ServerGroup:
        policies = policies or ([policy] if policy else [])
        group = {'id': str(uuid.uuid4()), 'name': name,
                 'policies': policies,
                 'policy': policies[0] if policies else None,
                 'members': [], 'metadata': {}}
        with state.locked_cloud() as cloud:
            cloud['server_groups'][group['id']] = group
        return ServerGroup(group)

    def list(self, **kwargs: Any) -> list[ServerGroup]:
        cloud = state.read_cloud()
        return [ServerGroup(g) for g in cloud['server_groups'].values()]

    def get(self, group_id: str) -> ServerGroup:
        group = state.read_cloud()['server_groups'].get(group_id)
        if not group:
            raise nova_exc.NotFound(404, 'Server group %s not found.'
                                    % group_id)
        return ServerGroup(group)

    def delete(self, group_id: str) -> None:
        with state.locked_cloud() as cloud:
            if cloud['server_groups'].pop(group_id, None) is None:
                raise nova_exc.NotFound(404, 'Server group %s not found.'
                                        % group_id)


class ServerManager:
    def _view(self, record: dict[str, Any],
              cloud: dict[str, Any]) -> Server:
        info = dict(record)
        info['addresses'] = network.server_addresses(cloud, record['id'])
        return Server(info, self)

    def _refresh(self, record: dict[str, Any]) -> None:
        """BUILD -> ACTIVE once the agent runs; SHUTOFF if it died;
        ACTIVE again when a test restarted it (a reboot). A server whose
        boot was made to hang or fail, or whose VM was lost
        (``lose``), keeps the status it was given."""
        if record.get('injected'):
            return
        root = state.state_dir()
        up = vm.running(root, record['key'])
        if record['status'] in ('BUILD', 'SHUTOFF') and up:
            record['status'] = 'ACTIVE'
            record['updated'] = _now()
        elif record['status'] in ('BUILD', 'ACTIVE') and not up:
            record['status'] = 'SHUTOFF'
            record['updated'] = _now()

    def create(self, name: str, image: Any, flavor: Any,
               meta: dict[str, str] | None = None,
               files: dict[str, Any] | None = None,
               userdata: str | None = None, key_name: str | None = None,
               availability_zone: str | None = None,
               block_device_mapping_v2: list[dict] | None = None,
               nics: list[dict] | None = None,
               scheduler_hints: dict | None = None,
               config_drive: Any = None, tags: list[str] | None = None,
               **kwargs: Any) -> Server:
        image_id = str(getattr(image, 'id', image)) if image else None
        flavor_obj = FlavorManager().get(flavor)
        injected = vm.files_from_userdata(userdata)
        for path, content in (files or {}).items():
            injected[path] = (content.encode() if isinstance(content, str)
                              else content)
        server_id = str(uuid.uuid4())
        key = server_id.replace('-', '')[:8]
        root = state.state_dir()
        info = state.rig_info(root)
        group_id = (scheduler_hints or {}).get('group')
        with state.locked_cloud(root) as cloud:
            if group_id and group_id not in cloud['server_groups']:
                raise nova_exc.BadRequest(400, 'Invalid server group %s'
                                          % group_id)
            port_ids = network.bind_nics(cloud, info, server_id, nics)
            volume_ids = [b['uuid'] for b in block_device_mapping_v2 or []
                          if b.get('source_type') == 'volume'
                          and b.get('uuid')]
            for vol_id in volume_ids:
                vol = cloud['volumes'].get(vol_id)
                if vol is None:
                    raise nova_exc.BadRequest(400, 'Volume %s not found'
                                              % vol_id)
                vol['status'] = 'in-use'
                vol['attachments'] = [{'server_id': server_id,
                                       'device': '/dev/vdb'}]
            if group_id:
                cloud['server_groups'][group_id]['members'].append(server_id)
            record = {
                'id': server_id, 'key': key, 'name': name,
                'status': 'BUILD', 'created': _now(), 'updated': _now(),
                'image': {'id': image_id} if image_id else '',
                'flavor': {'id': flavor_obj.id},
                'metadata': dict(meta or {}), 'tags': list(tags or []),
                'key_name': key_name, 'tenant_id': '', 'hostId': key,
                'host': 'k2hdkc-rig', 'OS-EXT-AZ:availability_zone':
                    availability_zone or 'nova',
                'port_ids': port_ids, 'volume_ids': volume_ids,
                'delete_on_termination': [
                    b['uuid'] for b in block_device_mapping_v2 or []
                    if b.get('delete_on_termination') and b.get('uuid')],
                'server_group': group_id, 'fault': {},
            }
            cloud['servers'][server_id] = record
            ip = cloud['ports'][port_ids[0]]['fixed_ips'][0]['ip_address']
        data_dir = (root / 'volumes' / volume_ids[0]) if volume_ids else None
        cidr = '%s/%s' % (ip, info['network']['prefixlen'])
        fault = faults.take('nova_boot', lambda f: True,
                            {'server': server_id, 'name': name},
                            path=root / faults.FILE_NAME)
        if fault is not None:
            _inject_boot_fault(root, server_id, fault['mode'])
            with state.locked_cloud(root) as cloud:
                return self._view(cloud['servers'][server_id], cloud)
        try:
            vm.boot(root, info, key, cidr, injected, data_dir)
        except Exception as exc:
            with state.locked_cloud(root) as cloud:
                rec = cloud['servers'][server_id]
                rec['status'] = 'ERROR'
                rec['fault'] = {'message': 'rig boot failed: %s' % exc,
                                'code': 500}
        with state.locked_cloud(root) as cloud:
            return self._view(cloud['servers'][server_id], cloud)

    def get(self, server: Any) -> Server:
        server_id = str(getattr(server, 'id', server))
        with state.locked_cloud() as cloud:
            record = cloud['servers'].get(server_id)
            if record is None:
                raise nova_exc.NotFound(404, 'Not found')
            self._refresh(record)
            return self._view(record, cloud)

    def list(self, detailed: bool = True,
             search_opts: dict[str, Any] | None = None, limit: Any = None,
             **kwargs: Any) -> list[Server]:
        wanted = set()
        if search_opts and search_opts.get('tags-any'):
            wanted = set(search_opts['tags-any'].split(','))
        with state.locked_cloud() as cloud:
            out = []
            for record in cloud['servers'].values():
                if wanted and not wanted & set(record['tags']):
                    continue
                self._refresh(record)
                out.append(self._view(record, cloud))
            return out

    def delete(self, server: Any) -> None:
        server_id = str(getattr(server, 'id', server))
        root = state.state_dir()
        with state.locked_cloud(root) as cloud:
            record = cloud['servers'].get(server_id)
            if record is None:
                raise nova_exc.NotFound(404, 'Not found')
            record['status'] = 'DELETED'
        vm.destroy(root, state.rig_info(root)['name'], record['key'])
        with state.locked_cloud(root) as cloud:
            record = cloud['servers'].pop(server_id)
            network.unbind_server(cloud, server_id)
            for vol_id in record['volume_ids']:
                vol = cloud['volumes'].get(vol_id)
                if vol is None:
                    continue
                vol['status'] = 'available'
                vol['attachments'] = []
                if vol_id in record['delete_on_termination']:
                    cloud['volumes'].pop(vol_id)
            for group in cloud['server_groups'].values():
                if server_id in group['members']:
                    group['members'].remove(server_id)
        for vol_id in record['delete_on_termination']:
            _remove_volume_dir(root, vol_id)


def _inject_boot_fault(root: Any, server_id: str, mode: str) -> None:
    """A boot that fails (ERROR with a fault, as Nova reports a failed
    spawn) or hangs (BUILD for ever); the VM never starts."""
    with state.locked_cloud(root) as cloud:
        record = cloud['servers'][server_id]
        record['injected'] = mode
        if mode == 'fail':
            record['status'] = 'ERROR'
            record['fault'] = {'message': 'rig: injected boot failure '
                               '(nova_boot fault)', 'code': 500}
        record['updated'] = _now()


def lose(root: Any, key: str) -> str:
    """VM ``key`` is gone: every process in it killed, its namespace
    and disk removed (the logs kept), and Nova shows the server ERROR,
    as after the loss of its compute host. Returns the server id."""
    with state.locked_cloud(root) as cloud:
        record = next(r for r in cloud['servers'].values()
                      if r['key'] == key)
        record['injected'] = 'lost'
        record['status'] = 'ERROR'
        record['fault'] = {'message': 'rig: the VM was lost (vm-gone '
                           'fault)', 'code': 500}
        record['updated'] = _now()
    vm.destroy(root, state.rig_info(root)['name'], key)
    return record['id']


def _remove_volume_dir(root: Any, vol_id: str) -> None:
    shutil.rmtree(root / 'volumes' / vol_id, ignore_errors=True)


class Client:
    """What ``create_nova_client(context, region_name, password)`` returns."""

    def __init__(self) -> None:
        self.api_version = api_versions.APIVersion(API_VERSION)
        self.flavors = FlavorManager()
        self.servers = ServerManager()
        self.server_groups = ServerGroupManager()
