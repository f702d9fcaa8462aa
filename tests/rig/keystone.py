"""A real Keystone for the rig (``auth = keystone``).

Keystone 30 (OpenStack 2026.2, Trove 26's series) from PyPI, on the rig's
MariaDB (its own database), fernet tokens, ``keystone-manage bootstrap``,
served by gunicorn on loopback. The rig registers Trove in the catalog,
makes two projects with a member each (A: the rig project, B: another),
Keystone's ``admin`` and Trove's service user, and writes their names,
ids, passwords and a token of each into rig.json (0600): tests and the
``openstack`` CLI log in with the passwords; trove-api checks tokens with
keystonemiddleware ``auth_token``.
"""

from __future__ import annotations

import pathlib
import secrets
import shlex
import subprocess
from typing import Any

from tests.rig import procs

REGION = 'RegionOne'
DOMAIN = 'Default'
# The rig's users: key -> (user name, project name, role names).
# ``a`` is the rig user in the rig project (``project_name``); ``b`` a
# member of another project; ``admin`` Keystone's bootstrap admin (the
# admin of another project for Trove); ``trove`` Trove's service user,
# with a role in A and B so that it can act in a cluster's own project
# (doc/k2hr3-layout.md §5).
MEMBER_ROLES = ('member', 'reader')


def settings(info: dict[str, Any], port: int) -> dict[str, Any]:
    """The ``keystone`` entry of rig.json (passwords made here)."""
    project_a = info['project_name']
    return {
        'port': port, 'url': 'http://127.0.0.1:%d/v3' % port,
        'db_name': info['name'] + '_keystone',
        'users': {
            'a': {'name': info['user_id'], 'project': project_a,
                  'password': secrets.token_hex(12)},
            'b': {'name': info['name'] + '-user-b',
                  'project': project_a + '-b',
                  'password': secrets.token_hex(12)},
            'admin': {'name': 'admin', 'project': 'admin',
                      'password': secrets.token_hex(12)},
            'trove': {'name': 'trove', 'project': 'service',
                      'password': secrets.token_hex(12)},
        },
    }


def conf_dir(info: dict[str, Any]) -> pathlib.Path:
    return pathlib.Path(info['state_dir']) / 'keystone'


def keystone_conf(info: dict[str, Any]) -> str:
    ks = info['keystone']
    root = conf_dir(info)
    return '\n'.join([
        '[DEFAULT]',
        # the rig's logs are scanned for tokens; keep Keystone terse
        'debug = false',
        '[database]',
        'connection = mysql+pymysql://root@127.0.0.1:3306/%s'
        % ks['db_name'],
        '[token]',
        'provider = fernet',
        # a rig (and a functional run) may last hours
        'expiration = 86400',
        '[fernet_tokens]',
        'key_repository = %s' % (root / 'fernet-keys'),
        '[fernet_receipts]',
        'key_repository = %s' % (root / 'fernet-receipts'),
        '[credential]',
        'key_repository = %s' % (root / 'credential-keys'),
        '[identity]',
        # password logins per CLI call: bcrypt's default 12 rounds cost
        # ~0.3 s each on a small machine
        'password_hash_rounds = 4',
        '',
    ])


def env(info: dict[str, Any], base: dict[str, str]) -> dict[str, str]:
    return dict(base, OS_KEYSTONE_CONFIG_DIR=str(conf_dir(info)),
                OS_KEYSTONE_CONFIG_FILES='keystone.conf')


def _bin(info: dict[str, Any], name: str) -> str:
    return str(pathlib.Path(info['python']).parent / name)


def manage(info: dict[str, Any], base_env: dict[str, str],
           *args: str) -> None:
    """``keystone-manage <args>`` against the rig's keystone.conf; the
    output may hold the bootstrap password, so it is never shown."""
    res = subprocess.run(
        [_bin(info, 'keystone-manage'), '--config-dir', str(conf_dir(info))]
        + list(args), capture_output=True, text=True, timeout=300,
        env=env(info, base_env))
    if res.returncode != 0:
        tail = res.stderr[-2000:]
        for user in info['keystone']['users'].values():
            tail = tail.replace(user['password'], '<password>')
        raise RuntimeError('keystone-manage %s failed: %s' % (args[0], tail))


def start(info: dict[str, Any], base_env: dict[str, str]) -> None:
    """Database, keys, bootstrap, then gunicorn on loopback."""
    from tests.rig import services
    ks = info['keystone']
    root = conf_dir(info)
    for sub in ('fernet-keys', 'fernet-receipts', 'credential-keys'):
        (root / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
    (root / 'keystone.conf').write_text(keystone_conf(info))
    services.create_database(ks['db_name'])
    manage(info, base_env, 'db_sync')
    for what in ('fernet_setup', 'credential_setup'):
        manage(info, base_env, what, '--keystone-user', 'root',
               '--keystone-group', 'root')
    admin = ks['users']['admin']
    manage(info, base_env, 'bootstrap',
           '--bootstrap-password', admin['password'],
           '--bootstrap-username', admin['name'],
           '--bootstrap-project-name', admin['project'],
           '--bootstrap-admin-url', ks['url'],
           '--bootstrap-internal-url', ks['url'],
           '--bootstrap-public-url', ks['url'],
           '--bootstrap-region-id', REGION)
    state = pathlib.Path(info['state_dir'])
    procs.spawn([_bin(info, 'gunicorn'), '--bind',
                 '127.0.0.1:%d' % ks['port'], '--workers', '1',
                 '--threads', '4', '--timeout', '120',
                 'tests.rig.keystone_wsgi:application'],
                state / 'logs' / 'keystone.log',
                state / 'pids' / 'keystone.pid',
                env=env(info, base_env), cwd=info['repo_root'])
    procs.wait_until(lambda: procs.tcp_open('127.0.0.1', ks['port']), 60,
                     'Keystone on 127.0.0.1:%d' % ks['port'])


def session(info: dict[str, Any], who: str,
            project: str | None = None) -> Any:
    """A keystoneauth session of rig user ``who`` (a key of
    ``keystone.users``), scoped to its project or to ``project``."""
    from keystoneauth1 import session as ks_session
    from keystoneauth1.identity import v3
    ks = info['keystone']
    user = ks['users'][who]
    auth = v3.Password(auth_url=ks['url'], username=user['name'],
                       password=user['password'],
                       user_domain_name=DOMAIN,
                       project_name=project or user['project'],
                       project_domain_name=DOMAIN)
    return ks_session.Session(auth=auth)


def provision(info: dict[str, Any]) -> None:
    """Projects, users, roles, Trove's service and endpoint; then the
    rig's ids and tokens in ``info`` (api_url of project A)."""
    from keystoneclient.v3 import client as ks_client
    ks = info['keystone']
    users = ks['users']
    procs.wait_until(lambda: _answers(ks['url']), 60, 'Keystone API')
    admin = ks_client.Client(session=session(info, 'admin'))
    roles = {r.name: r for r in admin.roles.list()}
    for name in ('member', 'reader', 'service', 'admin'):
        if name not in roles:
            roles[name] = admin.roles.create(name)
    domain = admin.domains.get('default')

    def project(name: str) -> Any:
        found = admin.projects.list(name=name, domain=domain)
        return found[0] if found else admin.projects.create(name, domain)

    def user(key: str) -> Any:
        spec = users[key]
        found = admin.users.list(name=spec['name'], domain=domain)
        if found:
            return found[0]
        return admin.users.create(spec['name'], domain=domain,
                                  password=spec['password'])

    projects = {key: project(users[key]['project'])
                for key in ('a', 'b', 'trove')}
    ids = {key: user(key) for key in ('a', 'b', 'trove')}
    for key in ('a', 'b'):
        for role in MEMBER_ROLES:
            admin.roles.grant(roles[role], user=ids[key],
                              project=projects[key])
        # Trove's service user acts in a cluster's own project
        admin.roles.grant(roles['member'], user=ids['trove'],
                          project=projects[key])
    for role in ('admin', 'service'):
        admin.roles.grant(roles[role], user=ids['trove'],
                          project=projects['trove'])
    service = admin.services.create('trove', type='database',
                                    description='Trove (rig)')
    url = 'http://127.0.0.1:%d/v1.0/%%(tenant_id)s' % info['api_port']
    for interface in ('public', 'internal', 'admin'):
        admin.endpoints.create(service, url, interface=interface,
                               region=REGION)
    for key, proj in projects.items():
        users[key]['project_id'] = proj.id
        users[key]['user_id'] = ids[key].id
    admin_project = admin.projects.list(name=users['admin']['project'],
                                        domain=domain)[0]
    users['admin']['project_id'] = admin_project.id
    # What the rest of the rig and the tests read.
    info['project_id'] = projects['a'].id
    info['api_url'] = url % {'tenant_id': projects['a'].id}
    info['token'] = session(info, 'a').get_token()
    info['admin_project_id'] = admin_project.id
    info['admin_token'] = session(info, 'admin').get_token()
    # Trove's service user in project A (what the taskmanager gets from
    # [service_credentials] when an admin of another project acts)
    info['owner_token'] = session(info, 'trove', users['a']['project']
                                  ).get_token()


def _answers(url: str) -> bool:
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310
            return resp.status == 200
    except OSError:
        return False


def trove_sections(info: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """trove.conf sections: keystonemiddleware and the service user."""
    ks = info['keystone']
    trove = ks['users']['trove']
    creds = {'auth_url': ks['url'], 'username': trove['name'],
             'password': trove['password'],
             'project_name': trove['project'],
             'user_domain_name': DOMAIN, 'project_domain_name': DOMAIN}
    return {
        'keystone_authtoken': dict(
            creds, auth_type='password', www_authenticate_uri=ks['url'],
            region_name=REGION),
        'service_credentials': dict(creds, region_name=REGION),
    }


def drop(info: dict[str, Any]) -> None:
    from tests.rig import services
    ks = info.get('keystone')
    if ks:
        services.drop_database(ks['db_name'])


def cli_env(info: dict[str, Any], who: str = 'a') -> dict[str, str]:
    """``OS_*`` variables that make ``openstack`` log ``who`` in with a
    password (kept out of its argv); Trove's endpoint then comes from
    the catalog."""
    ks = info['keystone']
    user = ks['users'][who]
    return {'OS_AUTH_URL': ks['url'], 'OS_IDENTITY_API_VERSION': '3',
            'OS_USERNAME': user['name'], 'OS_PASSWORD': user['password'],
            'OS_PROJECT_NAME': user['project'],
            'OS_USER_DOMAIN_NAME': DOMAIN, 'OS_PROJECT_DOMAIN_NAME': DOMAIN,
            'OS_REGION_NAME': REGION, 'OS_INTERFACE': 'public'}


def write_openrc(info: dict[str, Any]) -> None:
    """``openrc-<who>`` (0600) in the state dir, to ``source`` before
    ``openstack``, as devstack's openrc."""
    for who in info['keystone']['users']:
        path = pathlib.Path(info['state_dir']) / ('openrc-' + who)
        path.touch(mode=0o600)
        path.write_text(''.join('export %s=%s\n' % (k, shlex.quote(v))
                                for k, v in cli_env(info, who).items()))
