"""A user's k2hdkc cluster in the rig: CLI create/wait/delete, and what
the tests look at from the host (chmpx control ports, K2HR3 objects).
"""

from __future__ import annotations

import json
import pathlib
import time
from typing import Any
import urllib.error
import urllib.request

from tests.rig import cli
from tests.rig import state
from trove_k2hdkc.chmpx.ctlport import ControlPortClient

CTLPORT = 8021


def create(info: dict[str, Any], name: str, count: int = 3,
           flavor: str = '1') -> dict[str, Any]:
    """``openstack database cluster create`` with ``count`` members."""
    spec = "flavor=%s,volume=1,nic='net-id=%s'" % (flavor,
                                                   info['network']['id'])
    args = ['database', 'cluster', 'create', name, 'k2hdkc',
            info['datastore_version']]
    for _ in range(count):
        args += ['--instance', spec]
    return cli.openstack(info, *args)


def wait_active(info: dict[str, Any], cluster_id: str,
                timeout: float = 300) -> dict[str, Any]:
    """Wait until the cluster task is NONE and every member is ACTIVE;
    RuntimeError when a member fails or the time is up."""
    deadline = time.monotonic() + timeout
    while True:
        shown = cli.openstack(info, 'database', 'cluster', 'show',
                              cluster_id)
        members = cli.openstack(info, 'database', 'cluster', 'list',
                                'instances', cluster_id)
        states = {m['ID']: m['Status'] for m in members}
        if 'ERROR' in states.values():
            raise RuntimeError('cluster %s member failed: %s'
                               % (cluster_id, states))
        if (shown['task_name'] == 'NONE' and members
                and set(states.values()) == {'ACTIVE'}):
            return shown
        if time.monotonic() > deadline:
            raise RuntimeError('cluster %s not ready: task %s, members %s'
                               % (cluster_id, shown['task_name'], states))
        time.sleep(3)


def instances(info: dict[str, Any], cluster_id: str) -> list[dict]:
    """``instance show`` of every member of ``cluster_id``."""
    listed = cli.openstack(info, 'database', 'instance', 'list',
                           '--include-clustered')
    ids = [i['ID'] for i in listed]
    shown = [cli.openstack(info, 'database', 'instance', 'show', i)
             for i in ids]
    return [s for s in shown if s.get('cluster_id') == cluster_id]


def wait_gone(info: dict[str, Any], cluster_id: str,
              timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while True:
        clusters = cli.openstack(info, 'database', 'cluster', 'list')
        left = [c for c in clusters if c['ID'] == cluster_id]
        if not left and not instances(info, cluster_id):
            return
        if time.monotonic() > deadline:
            raise RuntimeError('cluster %s still there: %s'
                               % (cluster_id, left))
        time.sleep(3)


def all_status(ip: str) -> Any:
    """chmpx ALLSTATUS of the node at ``ip``, asked from the host."""
    return ControlPortClient(ip, CTLPORT).all_status()


def k2hr3_call(info: dict[str, Any], method: str, path: str, token: str,
               body: Any = None) -> tuple[int, Any]:
    """(status, JSON body or None) of a K2HR3 API request with the
    ``x-auth-token`` ``token`` (``U=...`` or ``R=...``), errors
    included."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(  # noqa: S310 - the rig's own stand-in
        info['k2hr3_api_url'].rstrip('/') + path, data=data,
        method=method, headers={'x-auth-token': token,
                                'content-type': 'application/json'})
    return _send(req)


def api_call(url: str, method: str, token: str,
             body: Any = None) -> tuple[int, Any]:
    """(status, JSON body or None) of a Trove API request to ``url``
    with the Keystone token ``token``, errors included."""
    req = urllib.request.Request(  # noqa: S310 - the rig API on loopback
        url, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={'X-Auth-Token': token, 'Content-Type': 'application/json'})
    return _send(req)


def _send(req: urllib.request.Request) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310
            status, text = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read()
    try:
        return status, json.loads(text) if text.strip() else None
    except ValueError:
        return status, None


def _k2hr3(info: dict[str, Any], method: str, path: str, token: str,
           body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    # The rig's own stand-in on the rig bridge (http by design).
    req = urllib.request.Request(  # noqa: S310
        info['k2hr3_api_url'].rstrip('/') + path, data=data,
        method=method, headers={'x-auth-token': 'U=' + token,
                                'content-type': 'application/json'})
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
        return json.loads(resp.read())


def k2hr3_scoped_token(info: dict[str, Any], keystone_token: str,
                       project_id: str) -> str:
    """A K2HR3 user token of the tenant of ``project_id``, found the way
    the taskmanager finds it: among the tenants K2HR3 lists for the
    Keystone token's user, by project id (K2HR3 names a tenant after the
    lower-cased project name, doc/k2hr3-layout.md §1)."""
    unscoped = _k2hr3(info, 'POST', '/v1/user/tokens', keystone_token,
                      {})['token']
    tenants = _k2hr3(info, 'GET', '/v1/user/tokens', unscoped)['tenants']
    names = [t['name'] for t in tenants
             if str(t.get('id', '')).lower() == project_id.lower()]
    if len(names) != 1:
        raise RuntimeError('K2HR3 lists %d tenants of project %s'
                           % (len(names), project_id))
    return _k2hr3(info, 'POST', '/v1/user/tokens', unscoped,
                  {'auth': {'tenantName': names[0]}})['token']


def k2hr3_objects(info: dict[str, Any], cluster_id: str,
                  keystone_token: str | None = None,
                  project_id: str | None = None) -> list[str]:
    """``kind:path`` of every K2HR3 resource, role and policy of the
    cluster, as the rig user sees them in the rig project's tenant (or
    as the owner of ``keystone_token`` sees them in the tenant of
    ``project_id``)."""
    scoped = k2hr3_scoped_token(info, keystone_token or info['token'],
                                project_id or info['project_id'])
    found = []
    for kind in ('resource', 'role', 'policy'):
        tree = _k2hr3(info, 'GET', '/v1/list/%s?expand=true' % kind,
                      scoped)['children']
        stack = [(node, node['name']) for node in tree]
        while stack:
            node, path = stack.pop()
            if cluster_id in path:
                found.append('%s:%s' % (kind, path))
            stack.extend((c, path + '/' + c['name'])
                         for c in node.get('children') or [])
    return sorted(found)


def grow(info: dict[str, Any], cluster_id: str, count: int = 1,
         flavor: str = '1') -> None:
    """``openstack database cluster grow`` as a user types it: flavor and
    volume only (troveclient 8.11 sends ``type=`` as a list that Trove 26
    rejects, and the network defaults to the cluster's)."""
    args = ['database', 'cluster', 'grow', cluster_id]
    for _ in range(count):
        args += ['--instance', 'flavor=%s,volume=1' % flavor]
    cli.openstack(info, *args, parse=False)


def shrink(info: dict[str, Any], cluster_id: str, *ids: str) -> None:
    """``openstack database cluster shrink <cluster> <instance>...``."""
    cli.openstack(info, 'database', 'cluster', 'shrink', cluster_id, *ids,
                  parse=False)


def vm_key(info: dict[str, Any], ip: str) -> str:
    """The rig VM key of the server whose port has ``ip``."""
    cloud = state.read_cloud(pathlib.Path(info['state_dir']))
    for server in cloud['servers'].values():
        for port_id in server['port_ids']:
            fixed = cloud['ports'][port_id]['fixed_ips']
            if any(f['ip_address'] == ip for f in fixed):
                return server['key']
    raise LookupError('no rig VM has address %s' % ip)


def taskmanager_log_mark(info: dict[str, Any]) -> int:
    """Where the taskmanager log ends now (for ``wait_taskmanager_log``)."""
    log = pathlib.Path(info['state_dir']) / 'logs' / 'trove-taskmanager.log'
    return log.stat().st_size if log.exists() else 0


def wait_taskmanager_log(info: dict[str, Any], text: str, since: int,
                         timeout: float = 300, count: int = 1) -> None:
    """Until ``text`` appears (``count`` times) in the taskmanager log
    after ``since``."""
    log = pathlib.Path(info['state_dir']) / 'logs' / 'trove-taskmanager.log'
    deadline = time.monotonic() + timeout
    while True:
        with open(log, 'rb') as f:
            f.seek(since)
            if f.read().count(text.encode()) >= count:
                return
        if time.monotonic() > deadline:
            raise RuntimeError('taskmanager never logged %r' % text)
        time.sleep(0.05)


def _api(info: dict[str, Any], method: str, path: str,
         body: Any = None) -> Any:
    """A Trove API request with the rig token (what the CLI cannot do)."""
    req = urllib.request.Request(  # noqa: S310 - the rig API on loopback
        info['api_url'] + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={'X-Auth-Token': info['token'],
                 'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310
        text = resp.read()
    return json.loads(text) if text.strip() else None


def ring_states(info: dict[str, Any], cluster_id: str) -> dict[str, Any]:
    """{member id: ring_state} from ``GET /clusters/<id>`` (the OSC
    ``cluster show`` prints only the member count)."""
    shown = _api(info, 'GET', '/clusters/%s' % cluster_id)['cluster']
    return {m['id']: m.get('ring_state') for m in shown['instances']}


def restart(info: dict[str, Any], cluster_id: str) -> None:
    """The cluster ``restart`` action (Trove's API has it; neither
    python-troveclient 8.11 nor the OSC plugin offers it)."""
    _api(info, 'POST', '/clusters/%s' % cluster_id, {'restart': {}})


def upgrade(info: dict[str, Any], cluster_id: str, version: str) -> None:
    """``openstack database cluster upgrade <cluster> <version>``."""
    cli.openstack(info, 'database', 'cluster', 'upgrade', cluster_id,
                  version, parse=False)


def k2hr3_orphans(info: dict[str, Any]) -> list[str]:
    """What ``trove-k2hdkc-orphans`` lists in the rig: K2HR3 objects of
    this product that no live cluster or instance owns, seen with the
    token Trove's service user has there (doc/k2hr3-layout.md §6)."""
    from trove_k2hdkc import k2hr3
    from trove_k2hdkc.k2hr3 import orphans
    owned = {c['ID'] for c in cli.openstack(info, 'database', 'cluster',
                                             'list')}
    owned |= {i['ID'] for i in cli.openstack(
        info, 'database', 'instance', 'list', '--include-clustered')}
    url = info['k2hr3_api_url']
    out = []
    with k2hr3.build_client(k2hr3.ClientSettings(
            base_url=url, allow_http=url.startswith('http://'))) as client:
        for tenant in orphans.tenants(client, info['owner_token']):
            for orphan in orphans.find(
                    client, tenant, lambda project, oid: (
                        project == info['project_id'] and oid in owned)):
                out.append('%s k2hdkc-%s: %s' % (
                    tenant.name, orphan.owner_id, ', '.join(orphan.objects)))
    return out
