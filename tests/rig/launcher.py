"""Bring a local Trove up and down: ``up``, ``down``, ``status``.

Order of ``up``: services (RabbitMQ, MariaDB) -> rig vhost/user and DB ->
config files -> bridge + RabbitMQ relay -> ``trove-manage db_sync`` and the
operator's datastore registration -> trove-api, trove-taskmanager,
trove-conductor -> wait for the API. ``down`` undoes all of it from what is
on disk, so it also works after a crash and when run twice.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
from typing import Any
import urllib.request

from tests import swiftlocal
from tests.rig import config
from tests.rig import keystone
from tests.rig import netns
from tests.rig import procs
from tests.rig import services
from tests.rig import state
from tests.rig import vm
from tests.standins.dataplane import faults

SERVICES = ('trove-api', 'trove-taskmanager', 'trove-conductor')
TASKMANAGER_QUEUE = 'taskmanager'   # Trove's [DEFAULT] taskmanager_queue
VALIDATION_RULES = config.TEMPLATES / 'k2hdkc' / 'validation-rules.json'


def trove_env(info: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    venv_bin = str(pathlib.Path(info['python']).parent)
    env['PATH'] = venv_bin + ':' + env.get('PATH', '/usr/bin:/bin')
    env['PYTHONPATH'] = info['repo_root']
    env[state.ENV_STATE_DIR] = info['state_dir']
    return env


def _bin(info: dict[str, Any], name: str) -> str:
    return str(pathlib.Path(info['python']).parent / name)


def manage(info: dict[str, Any], *args: str) -> str:
    """Run trove-manage against the rig's trove.conf, as an operator."""
    conf = pathlib.Path(info['state_dir']) / 'trove.conf'
    res = subprocess.run([_bin(info, 'trove-manage'), '--config-file',
                          str(conf)] + list(args), capture_output=True,
                         text=True, env=trove_env(info), timeout=300)
    if res.returncode != 0:
        raise RuntimeError('trove-manage %s failed: %s'
                           % (args[0], res.stderr[-2000:]))
    return res.stdout


def register_datastore(info: dict[str, Any]) -> None:
    ver = info['datastore_version']
    manage(info, 'datastore_update', 'k2hdkc', '')
    add_datastore_version(info, ver)
    add_datastore_version(info, config.SELFTEST_VERSION,
                          config.SELFTEST_MANAGER)
    manage(info, 'datastore_update', 'k2hdkc', ver)
    if VALIDATION_RULES.is_file():
        manage(info, 'db_load_datastore_config_parameters', 'k2hdkc', ver,
               str(VALIDATION_RULES))


def add_datastore_version(info: dict[str, Any], name: str,
                          ext: str = config.PRODUCT_MANAGER) -> None:
    """``trove-manage datastore_version_update`` as the README's
    registration does (also what an operator runs before an upgrade)."""
    manage(info, 'datastore_version_update', 'k2hdkc', name, 'k2hdkc',
           config.IMAGE_ID, '', '1', '--registry-ext', ext,
           '--repl-strategy', config.REPL_STRATEGY)


def _api_answers(port: int) -> bool:
    try:
        # Fixed http URL on loopback.
        with urllib.request.urlopen('http://127.0.0.1:%d/' % port,  # noqa: S310
                                    timeout=2) as resp:
            return resp.status in (200, 300)
    except OSError as exc:
        return getattr(exc, 'code', None) == 300


def _ensure_host_dir(info: dict[str, Any], path: str) -> None:
    """Bind-mount targets must exist on the host; remember ours."""
    if not os.path.isdir(path):
        os.makedirs(path)
        info['created_host_dirs'].append(path)


def up(settings: config.RigSettings) -> dict[str, Any]:
    """Start the rig; on failure tear down what was started and re-raise."""
    if settings.state_dir.resolve().is_relative_to('/tmp'):
        # Each VM gets a private /tmp, which would hide its own files.
        raise ValueError('the rig state dir must not be under /tmp')
    if (settings.state_dir / state.RIG_FILE).exists():
        down(settings.state_dir)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    use_mariadb = services.mariadb_available()
    info = config.build_info(settings, use_mariadb)
    config.write_all(info)
    try:
        _up(info)
    except BaseException:
        down(settings.state_dir, keep_logs=True)
        raise
    return info


def _up(info: dict[str, Any]) -> None:
    root = pathlib.Path(info['state_dir'])
    _ensure_host_dir(info, vm.GUESTAGENT_DIR)
    _ensure_host_dir(info, vm.GUEST_LOG_DIR)
    (root / state.RIG_FILE).write_text(json.dumps(info, indent=1))
    services.ensure_rabbitmq()
    services.create_rabbit_account(info['rabbit_vhost'],
                                   info['rabbit_user'],
                                   info['rabbit_password'])
    if info['db_name']:
        services.ensure_mariadb()
        services.create_database(info['db_name'])
    netns.ensure_bridge(info['name'], '%s/%d' % (
        info['network']['gateway'], info['network']['prefixlen']))
    env = trove_env(info)
    if info['auth'] == 'keystone':
        keystone.start(info, env)
        keystone.provision(info)
        keystone.write_openrc(info)
        (root / state.RIG_FILE).write_text(json.dumps(info, indent=1))
    procs.spawn([info['python'], '-m', 'tests.rig.relay',
                 info['network']['gateway'], '5672', '127.0.0.1', '5672'],
                root / 'logs' / 'relay.log', root / 'pids' / 'relay.pid',
                env=env, cwd=info['repo_root'])
    if info.get('k2hr3_standin'):
        _start_k2hr3(info, env)
    if info.get('swift'):
        start_swift(info)
    manage(info, 'db_sync')
    register_datastore(info)
    for name in SERVICES:
        start_service(info, name)

    def ready() -> bool:
        for name in SERVICES:
            pid = int((root / 'pids' / (name + '.pid')).read_text())
            if not procs.alive(pid):
                raise RuntimeError('%s exited; see %s' % (
                    name, root / 'logs' / (name + '.log')))
        return _api_answers(info['api_port'])

    procs.wait_until(ready, 90, 'trove-api on port %d' % info['api_port'])


def start_service(info: dict[str, Any], name: str,
                  extra_conf: pathlib.Path | None = None) -> int:
    """Start Trove service ``name`` with the rig's trove.conf (and
    ``extra_conf`` over it, for a test that swaps one option)."""
    root = pathlib.Path(info['state_dir'])
    cmd = [_bin(info, name), '--config-file', str(root / 'trove.conf')]
    if extra_conf is not None:
        cmd += ['--config-file', str(extra_conf)]
    return procs.spawn(cmd, root / 'logs' / (name + '.log'),
                       root / 'pids' / (name + '.pid'),
                       env=trove_env(info), cwd=info['repo_root'])


def restart_taskmanager(info: dict[str, Any],
                        extra_conf: pathlib.Path | None = None,
                        kill: bool = False) -> None:
    """Stop trove-taskmanager and start it again (with ``extra_conf``);
    return once it consumes its RPC queue again. ``kill``: SIGKILL, a
    crash in the middle of whatever it was doing (SIGTERM lets
    oslo.service wait for running tasks)."""
    root = pathlib.Path(info['state_dir'])
    pidfile = root / 'pids' / 'trove-taskmanager.pid'
    if kill and pidfile.exists():
        procs.kill_group(int(pidfile.read_text().strip()))
    procs.stop_pidfile(pidfile)
    start_service(info, 'trove-taskmanager', extra_conf)
    procs.wait_until(
        lambda: services.queue_consumers(info['rabbit_vhost'],
                                         TASKMANAGER_QUEUE) > 0,
        90, 'trove-taskmanager to consume %s' % TASKMANAGER_QUEUE)


def _start_k2hr3(info: dict[str, Any], env: dict[str, str]) -> None:
    """K2HR3 API stand-in on the bridge address. Static auth: the rig's
    token is a Keystone token of the rig user, whose K2HR3 tenant has the
    rig project's id (how the taskmanager finds the tenant); with
    Keystone the stand-in asks Keystone, as K2HR3 does."""
    root = pathlib.Path(info['state_dir'])
    host = info['network']['gateway']
    # K2HR3 faults on demand, through the VMs' faults file (faults.py)
    env = dict(env, **{faults.ENV: str(root / faults.FILE_NAME)})
    cmd = [info['python'], '-m', 'tests.standins.k2hr3',
           '--host', host, '--port', str(info['k2hr3_port'])]
    if info['auth'] == 'keystone':
        # tokens checked at the rig's Keystone, as the real K2HR3 does
        cmd += ['--keystone-url', info['keystone']['url']]
    else:
        cmd += ['--keystone-token', '%s=%s:%s' % (
                    info['token'], info['user_id'], info['project_id']),
                '--keystone-token', '%s=%s:%s' % (
                    info['admin_token'], info['admin_project_id'] + '-admin',
                    info['admin_project_id']),
                '--keystone-token', '%s=trove:%s' % (
                    info['owner_token'], info['project_id'])]
    procs.spawn(cmd, root / 'logs' / 'k2hr3.log', root / 'pids' / 'k2hr3.pid',
                env=env, cwd=info['repo_root'])
    procs.wait_until(lambda: procs.tcp_open(host, info['k2hr3_port']), 30,
                     'K2HR3 stand-in on %s:%d' % (host, info['k2hr3_port']))


def swift_server(info: dict[str, Any]) -> swiftlocal.LocalSwift:
    """The rig's Swift (proxy on the bridge address, servers on
    loopback) as configured in ``info``; ``start`` it or use its
    helpers (``stop_server``/``start_server``, ``object_files``)."""
    return swiftlocal.LocalSwift(
        pathlib.Path(info['state_dir']) / 'swift',
        proxy_host=info['swift']['host'], tokens=config.swift_tokens(info),
        ports=info['swift']['ports'], keystone=config.swift_keystone(info))


def start_swift(info: dict[str, Any]) -> None:
    """A real Swift for the rig's backups; ``down`` stops it by its
    pid files."""
    server = swift_server(info)
    try:
        server.start()
    finally:
        server.write_pidfiles(pathlib.Path(info['state_dir']) / 'pids')


def _load_info(state_dir: pathlib.Path) -> dict[str, Any] | None:
    try:
        return json.loads((state_dir / state.RIG_FILE).read_text())
    except (OSError, ValueError):
        return None


def down(state_dir: pathlib.Path, keep_logs: bool = False,
         name: str | None = None) -> None:
    """Stop and remove everything the rig in ``state_dir`` created."""
    info = _load_info(state_dir)
    rig = (info or {}).get('name') or name or netns.DEFAULT_NAME
    pids = state_dir / 'pids'
    for pidfile in sorted(pids.glob('*.pid')) if pids.is_dir() else []:
        procs.stop_pidfile(pidfile)
    for key in vm.known_vm_keys(state_dir):
        vm.destroy(state_dir, rig, key, remove_root=not keep_logs)
    for ns in netns.list_namespaces(rig):
        procs.kill_pids(netns.ns_pids(ns))
        subprocess.run(['ip', 'netns', 'del', ns], capture_output=True,
                       check=False)
        shutil.rmtree(netns.NETNS_ETC / ns, ignore_errors=True)
    netns.delete_bridge(rig)
    if info:
        services.delete_rabbit_account(info['rabbit_vhost'],
                                       info['rabbit_user'])
        if info.get('db_name'):
            services.drop_database(info['db_name'])
        keystone.drop(info)
        # created_host_dirs stay: another rig's VMs may bind-mount them,
        # and removing the mount point on the host detaches those mounts
        # (seen: cluster_complete failed with ENOENT on
        # /opt/trove-guestagent/.guestagent.prepare.end).
    if not state_dir.exists():
        return
    if keep_logs:
        for entry in state_dir.iterdir():
            if entry.name != 'logs' and entry.name != 'vms':
                _remove(entry)
    else:
        shutil.rmtree(state_dir, ignore_errors=True)


def _remove(path: pathlib.Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def status(state_dir: pathlib.Path) -> dict[str, Any]:
    """What is running: services, VMs, namespaces."""
    info = _load_info(state_dir)
    if info is None:
        return {'up': False}
    out: dict[str, Any] = {'up': True, 'api_url': info['api_url'],
                           'services': {}}
    for pidfile in sorted((state_dir / 'pids').glob('*.pid')):
        pid = int(pidfile.read_text().strip() or 0)
        out['services'][pidfile.stem] = procs.alive(pid)
    cloud = state.read_cloud(state_dir)
    out['servers'] = {s['id']: {'name': s['name'], 'status': s['status'],
                                'key': s['key']}
                      for s in cloud['servers'].values()}
    out['namespaces'] = netns.list_namespaces(info['name'])
    return out


if __name__ == '__main__':
    sys.exit('use: python -m tests.rig up|down|status|demo')
