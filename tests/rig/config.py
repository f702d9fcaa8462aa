"""Settings of one rig and the config files it writes.

Everything a rig creates outside its state dir is derived from its
``name`` (RabbitMQ vhost/user, database, bridge, namespace prefix), so a
developer's demo rig and the test rig can coexist and ``down`` knows what
to remove even after a crash.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import pathlib
import secrets
import shutil
import sys
from typing import Any
import uuid

from tests import swiftlocal
from tests.rig import binaries
from tests.rig import keystone
from tests.rig import vm

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
TEMPLATES = REPO_ROOT / 'etc' / 'trove' / 'templates'
IMAGE_ID = '8c0f2f0e-6b1e-4c55-9a7e-6b2dc0a1d2c3'
PRODUCT_MANAGER = 'trove_k2hdkc.guest.manager.Manager'
REPL_STRATEGY = 'trove_k2hdkc.guest.replication.K2hdkcReplication'
SELFTEST_MANAGER = 'tests.rig.selftest_manager.RigSelfTestManager'
SELFTEST_VERSION = 'rig-selftest'
FLAVORS = [
    {'id': '1', 'name': 'k2.tiny', 'ram': 512, 'vcpus': 1, 'disk': 5},
    {'id': '2', 'name': 'k2.small', 'ram': 1024, 'vcpus': 1, 'disk': 10},
    {'id': '3', 'name': 'k2.medium', 'ram': 2048, 'vcpus': 2, 'disk': 20},
]
# How trove-api authenticates: ``static`` (tests/rig/auth.py, fixed
# tokens) or ``keystone`` (a real Keystone, tests/rig/keystone.py).
ENV_AUTH = 'K2HDKC_RIG_AUTH'
AUTH_MODES = ('static', 'keystone')


def default_auth() -> str:
    mode = os.environ.get(ENV_AUTH) or 'static'
    if mode not in AUTH_MODES:
        raise ValueError('%s must be one of %s, not %r'
                         % (ENV_AUTH, ', '.join(AUTH_MODES), mode))
    return mode


@dataclasses.dataclass
class RigSettings:
    # Not under /tmp (every VM mounts a private /tmp over it), and not in
    # the checkout, which may itself live under /tmp.
    state_dir: pathlib.Path = pathlib.Path('/var/tmp/k2hdkc-rig')
    name: str = 'k2rig'
    api_port: int = 18779
    subnet: str = '10.247.0.0/24'
    datastore_version: str = '1.0.16'
    project_id: str = 'k2rig-project'
    # X-Project-Name. Trove's RPC context drops it, so the taskmanager
    # finds the K2HR3 tenant by project id (the stand-in's tenant ids
    # are the tenant strings it was given).
    project_name: str = 'k2rig-project'
    user_id: str = 'k2rig-admin'
    k2hr3_api_url: str | None = None
    # Rig-managed K2HR3 stand-in (when no k2hr3_api_url is given), on
    # the bridge address so host services and guests both reach it.
    k2hr3_port: int = 18080
    auth: str = dataclasses.field(default_factory=default_auth)
    keystone_port: int = 18770

    @property
    def db_name(self) -> str:
        return self.name + '_trove'

    @property
    def gateway(self) -> str:
        return str(next(ipaddress.ip_network(self.subnet).hosts()))

    @property
    def api_url(self) -> str:
        return 'http://127.0.0.1:%d/v1.0/%s' % (self.api_port,
                                                 self.project_id)


def guest_path() -> str:
    """PATH inside VMs: the data-plane programs ``binaries`` chooses."""
    return binaries.search_path()


def build_info(s: RigSettings, use_mariadb: bool) -> dict[str, Any]:
    """The rig.json contents: secrets, names and the fake cloud's facts."""
    net = ipaddress.ip_network(s.subnet)
    state = s.state_dir.resolve()
    db = ('mysql+pymysql://root@127.0.0.1:3306/%s' % s.db_name
          if use_mariadb else 'sqlite:///%s' % (state / 'trove.sqlite'))
    standin = s.k2hr3_api_url is None
    k2hr3_url = s.k2hr3_api_url or 'http://%s:%d' % (s.gateway,
                                                     s.k2hr3_port)
    info = {
        'name': s.name, 'state_dir': str(state), 'api_port': s.api_port,
        'api_url': s.api_url, 'project_id': s.project_id,
        'project_name': s.project_name,
        'user_id': s.user_id, 'token': secrets.token_hex(16),
        # An admin of another project (deletes other projects' clusters)
        # and the Keystone token the taskmanager gets for the rig project
        # when acting for that admin (k2hr3_owner_token_function).
        'admin_project_id': s.project_id + '-ops',
        'admin_token': secrets.token_hex(16),
        'owner_token': secrets.token_hex(16),
        'rabbit_user': s.name, 'rabbit_vhost': s.name,
        'rabbit_password': secrets.token_hex(12),
        'database': db, 'db_name': s.db_name if use_mariadb else None,
        'python': sys.executable, 'repo_root': str(REPO_ROOT),
        'guest_path': guest_path(),
        'guest_paths': {'mount_point': str(state / 'guest' / 'data'),
                        'conf_dir': str(state / 'guest' / 'conf')},
        'datastore_version': s.datastore_version,
        'network': {'id': str(uuid.uuid5(uuid.NAMESPACE_URL,
                                         'rig-net:' + s.name)),
                    'name': s.name + '-net',
                    'subnet_id': str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                'rig-subnet:' + s.name)),
                    'cidr': s.subnet, 'gateway': s.gateway,
                    'prefixlen': net.prefixlen, 'pool_start': 9},
        'flavors': [dict(f, ephemeral=0, links=[], swap='',
                         is_public=True) for f in FLAVORS],
        'images': [{'id': IMAGE_ID, 'name': 'k2hdkc-rig-guest',
                    'status': 'active', 'tags': ['trove', 'k2hdkc'],
                    'checksum': 'rig', 'min_disk': 0, 'min_ram': 0}],
        'k2hr3_api_url': k2hr3_url, 'k2hr3_standin': standin,
        'k2hr3_port': s.k2hr3_port, 'created_host_dirs': [],
        'auth': s.auth,
        'swift': swift_info(s.gateway),
    }
    if s.auth == 'keystone':
        if not use_mariadb:
            raise RuntimeError('auth=keystone needs MariaDB')
        # ids, api_url and tokens follow once Keystone runs
        # (keystone.provision)
        info['keystone'] = keystone.settings(info, s.keystone_port)
    return info


def swift_info(gateway: str) -> dict[str, Any] | None:
    """Where the rig's real Swift listens (its proxy on the bridge
    address, so guests reach it), or None when Swift's packages are not
    installed; then backups are refused by the rig's Swift stand-in."""
    if swiftlocal.missing():
        return None
    ports = {name: swiftlocal.free_port() for name in swiftlocal.SERVERS}
    return {'ports': ports, 'host': gateway,
            'url_prefix': 'http://%s:%d/v1/AUTH_' % (gateway,
                                                     ports['proxy'])}


def swift_tokens(info: dict[str, Any]) -> dict[str, str]:
    """Which rig token reaches which Swift account: a project's tokens
    its own ``AUTH_<project id>``, the other project's admin every one
    (as Keystone with a reseller admin role would decide)."""
    own = 'AUTH_' + info['project_id']
    return {info['token']: own, info['owner_token']: own,
            info['admin_token']: '*'}


def swift_keystone(info: dict[str, Any]) -> dict[str, str] | None:
    """With a Keystone, the rig's Swift checks tokens there (auth_token
    as Trove's service user, then keystoneauth): the CLI's tokens are
    new at every call, so no fixed list can stand for them."""
    if info['auth'] != 'keystone':
        return None
    return dict(keystone.trove_sections(info)['keystone_authtoken'])


def allow_insecure_http(info: dict[str, Any]) -> bool | None:
    """``[k2hdkc] k2hr3_allow_insecure_http`` for the rig's processes:
    True when its K2HR3 (the stand-in by default) is plain http, else
    unset so the product's refusal stays in force."""
    return True if info['k2hr3_api_url'].startswith('http://') else None


def _ini(sections: dict[str, dict[str, Any]]) -> str:
    out = []
    for section, values in sections.items():
        out.append('[%s]' % section)
        out.extend('%s = %s' % (k, v) for k, v in values.items()
                   if v is not None)
        out.append('')
    return '\n'.join(out)


def trove_conf(info: dict[str, Any]) -> str:
    state = pathlib.Path(info['state_dir'])
    rabbit = 'rabbit://%s:%s@127.0.0.1:5672/%s' % (
        info['rabbit_user'], info['rabbit_password'], info['rabbit_vhost'])
    clients = 'tests.rig.clients.'
    sections = _trove_sections(info, state, rabbit, clients)
    if info['auth'] == 'keystone':
        sections.update(keystone.trove_sections(info))
    return _ini(sections)


def _trove_sections(info: dict[str, Any], state: pathlib.Path, rabbit: str,
                    clients: str) -> dict[str, dict[str, Any]]:
    return {
        'DEFAULT': {
            'config_source': 'k2hdkc_options',
            'bind_host': '127.0.0.1', 'bind_port': info['api_port'],
            'trove_api_workers': 1,
            'api_paste_config': state / 'api-paste.ini',
            'transport_url': rabbit, 'control_exchange': 'trove',
            'remote_nova_client': clients + 'nova_client',
            'remote_neutron_client': clients + 'neutron_client',
            'remote_cinder_client': clients + 'cinder_client',
            'remote_glance_client': clients + 'glance_client',
            # Trove's own Swift client on the rig's real Swift, when
            # there is one (backups); else a stand-in that says why not.
            'remote_swift_client': (
                'trove.common.clients.swift_client' if info.get('swift')
                else clients + 'swift_client'),
            'swift_url': (info['swift']['url_prefix'] if info.get('swift')
                          else None),
            'guest_config': state / 'trove-guestagent.conf',
            'cloudinit_location': state / 'cloudinit',
            'template_path': state / 'templates',
            'trove_security_groups_support': True,
            'usage_sleep_time': 1, 'state_change_wait_time': 30,
            'agent_call_high_timeout': 60, 'agent_call_low_timeout': 15,
            'network_label_regex': '.*',
            # Single-node K2HDKC instances (K2HR3 layout per instance).
            'taskmanager_manager': 'trove_k2hdkc.taskmanager.Manager',
        },
        'k2hdkc_options': {'driver': 'k2hdkc_options'},
        'database': {'connection': info['database']},
        'network': {'network_isolation': False},
        'oslo_concurrency': {'lock_path': state / 'locks'},
        'oslo_messaging_rabbit': {'heartbeat_timeout_threshold': 60},
        'k2hdkc': {
            'k2hr3_api_url': info['k2hr3_api_url'],
            'k2hr3_allow_insecure_http': allow_insecure_http(info),
            # The taskmanager renders K2HFILE from data_dir: it must be
            # the guests' data dir.
            'mount_point': info['guest_paths']['mount_point'],
            'cluster_status_timeout': 60, 'merge_timeout': 60,
            'cluster_poll_interval': 0.5,
            # a killed taskmanager's task is resumed within seconds
            'task_heartbeat_interval': 2, 'task_orphan_after': 10,
            # static auth: the stand-in's fixed token; with Keystone the
            # product's default ([service_credentials])
            'k2hr3_owner_token_function': (
                None if info['auth'] == 'keystone'
                else 'tests.rig.clients.owner_token'),
            'k2hr3_teardown_backoff': 0.5,
            # the guests' node_start_timeout is 60: 2 x 60 + 30
            'guest_node_rpc_timeout': 150,
            # a member whose boot hangs fails its create or grow in 5
            # minutes, not 15 (cluster/readiness.py)
            'usage_timeout': 300,
        },
    }


#: The rig guests' Trove ``backup_aes_cbc_key`` (a test value).
RIG_BACKUP_KEY = 'k2hdkc-rig-backup-key'


def guest_conf(info: dict[str, Any]) -> str:
    """The controller-side trove-guestagent.conf Trove injects in VMs."""
    rabbit = 'rabbit://%s:%s@%s:5672/%s' % (
        info['rabbit_user'], info['rabbit_password'],
        info['network']['gateway'], info['rabbit_vhost'])
    return _ini({
        'DEFAULT': {
            'config_source': 'k2hdkc_options',
            'transport_url': rabbit, 'control_exchange': 'trove',
            'report_interval': 10, 'state_change_poll_time': 1,
            'command_process_timeout': 60,
            # backups are encrypted as with Trove's backup_aes_cbc_key
            # (doc/backup.md §2); the rig's own throw-away key
            'backup_aes_cbc_key': RIG_BACKUP_KEY,
        },
        'k2hdkc_options': {'driver': 'k2hdkc_options'},
        'oslo_concurrency': {'lock_path': '/tmp'},
        'k2hdkc': {
            'device_path': 'proc',
            'mount_point': info['guest_paths']['mount_point'],
            'conf_dir': info['guest_paths']['conf_dir'],
            'database_service_uname': 'nobody',
            'database_service_uid': 65534,
            'database_service_gid': 65534,
            'node_runtime': 'process',
            'guestagent_dir': vm.GUESTAGENT_DIR,
            'node_start_timeout': 60,
            'k2hr3_api_url': info['k2hr3_api_url'],
            'k2hr3_allow_insecure_http': allow_insecure_http(info),
        },
    })


API_PASTE_HEAD = """\
[composite:trove]
use = call:trove.common.wsgi:versioned_urlmap
/: versions
/v1.0: troveapi

[app:versions]
paste.app_factory = trove.versions:app_factory

[pipeline:troveapi]
pipeline = request_id faultwrapper {auth_filter} authorization \
contextwrapper extensions troveapp

[filter:extensions]
paste.filter_factory = trove.common.extensions:factory

[filter:authorization]
paste.filter_factory = trove.common.auth:AuthorizationMiddleware.factory

[filter:request_id]
paste.filter_factory = oslo_middleware.request_id:RequestId.factory

[filter:contextwrapper]
paste.filter_factory = trove.common.wsgi:ContextMiddleware.factory

[filter:faultwrapper]
paste.filter_factory = trove.common.wsgi:FaultWrapper.factory

[app:troveapp]
paste.app_factory = trove.common.api:app_factory
"""

RIGAUTH = """
[filter:rigauth]
paste.filter_factory = tests.rig.auth:filter_factory
token = {token}
project_id = {project_id}
project_name = {project_name}
user_id = {user_id}
admin_token = {admin_token}
admin_project_id = {admin_project_id}
"""

# keystonemiddleware reads [keystone_authtoken] of trove.conf
AUTHTOKEN = """
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
"""


def api_paste(info: dict[str, Any]) -> str:
    if info['auth'] == 'keystone':
        return API_PASTE_HEAD.format(auth_filter='authtoken') + AUTHTOKEN
    return (API_PASTE_HEAD.format(auth_filter='rigauth')
            + RIGAUTH.format(**info))


def write_all(info: dict[str, Any]) -> None:
    """Write rig.json and every config file into the state dir."""
    state = pathlib.Path(info['state_dir'])
    for sub in ('pids', 'logs', 'locks', 'vms', 'volumes', 'cloudinit',
                'guest/data', 'guest/conf', 'templates/k2hdkc'):
        (state / sub).mkdir(parents=True, exist_ok=True)
    (state / 'rig.json').write_text(json.dumps(info, indent=1))
    (state / 'rig.json').chmod(0o600)
    (state / 'trove.conf').write_text(trove_conf(info))
    (state / 'trove.conf').chmod(0o600)
    (state / 'trove-guestagent.conf').write_text(guest_conf(info))
    (state / 'api-paste.ini').write_text(api_paste(info))
    src = TEMPLATES / 'k2hdkc'
    dst = state / 'templates' / 'k2hdkc'
    if src.is_dir():
        shutil.copytree(src, dst, dirs_exist_ok=True)
    if not (dst / 'config.template').exists():
        # Trove refuses to build an instance without this template; the
        # product template is another engineer's deliverable.
        (dst / 'config.template').write_text(
            '# k2hdkc rig placeholder (no product template yet)\n')
