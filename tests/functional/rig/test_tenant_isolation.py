"""Tenants kept apart (issue 17, item 5): through the real trove-api behind
keystonemiddleware ``auth_token``, with real Keystone tokens, and through
the K2HR3 API the rig runs (which checks those tokens at the same
Keystone, tests/standins/k2hr3/keystone.py).

One cluster of project A (one member) serves every check, in this order:

* a member of project B gets 403 or 404 for A's cluster on show, grow,
  shrink, restart, upgrade and delete, both at B's own Trove endpoint (the
  one its catalog names) and at A's, and the cluster is unchanged
  afterwards;
* B, with a K2HR3 token of its own tenant, can neither read nor change
  A's resources, roles and role tokens (named by their full YRN), cannot
  scope its Keystone token to A's tenant, and A's objects are unchanged
  afterwards (what the real K2HR3 answers is pinned by
  tests/contract/test_k2hr3_cross_tenant.py);
* an admin of another project deletes A's cluster: A's K2HR3 objects are
  gone from A's tenant and none were ever made in the admin's tenant or
  B's (the taskmanager acts in the owner's tenant, doc/k2hr3-layout.md
  §5; this replaces the static-auth tests/functional/rig/
  test_cluster_admin_delete.py);
* no Keystone token of anyone (the CLI's and the services' included:
  every fernet token has the same prefix), no K2HR3 token the test saw
  and no Keystone password appears in any log the rig wrote.

It needs a real Keystone: with ``K2HDKC_RIG_AUTH=keystone`` it runs in
the session's rig, else in a Keystone rig of its own (``keystone_rig``).
"""

from __future__ import annotations

from collections.abc import Iterator
import json
import pathlib
import re
from typing import Any

import pytest

from tests.rig import cli
from tests.rig import cluster
from tests.rig import keystone

pytestmark = pytest.mark.rig

#: A Keystone fernet token: base64url of version byte 0x80 and a 64-bit
#: timestamp whose first three bytes are zero until the year 2500.
FERNET = re.compile(rb'gAAAAA[0-9A-Za-z_-]{60,}')
REFUSED = (403, 404)


@pytest.fixture(scope='module')
def rig(keystone_rig: Any) -> dict[str, Any]:
    return keystone_rig.info


@pytest.fixture(scope='module')
def seen() -> dict[str, str]:
    """Every token the test gets hold of (what -> token), for the log
    scan at the end."""
    return {}


@pytest.fixture(scope='module')
def owned(rig: dict[str, Any], seen: dict[str, str]
          ) -> Iterator[dict[str, Any]]:
    """Project A's ACTIVE one-member cluster: its id, member, what A sees
    of it in Trove and K2HR3; deleted by A at the end if still there."""
    cid = cluster.create(rig, 'owned-by-a', 1)['id']
    try:
        cluster.wait_active(rig, cid)
        members = cluster.instances(rig, cid)
        access = role_tokens_on_guests(rig)
        seen.update(('guest role token %d' % n, t)
                    for n, t in enumerate(access))
        yield {'id': cid, 'member': members[0]['id'],
               'trove': trove_view(rig, cid),
               'k2hr3': k2hr3_view(rig, cid, seen)}
    finally:
        if any(c['ID'] == cid for c in cli.openstack(
                rig, 'database', 'cluster', 'list')):
            cli.openstack(rig, 'database', 'cluster', 'delete', cid,
                          parse=False)
            cluster.wait_gone(rig, cid)


def test_b_gets_403_or_404_for_as_cluster(rig, owned, seen):
    cid = owned['id']
    b = keystone.session(rig, 'b').get_token()
    seen['Keystone token of B'] = b
    actions = {
        'show': ('GET', None),
        'grow': ('POST', {'grow': [{'flavorRef': '1',
                                    'volume': {'size': 1}}]}),
        'shrink': ('POST', {'shrink': [{'id': owned['member']}]}),
        'restart': ('POST', {'restart': {}}),
        'upgrade': ('POST', {'upgrade': {
            'datastore_version': rig['datastore_version']}}),
        'delete': ('DELETE', None),
    }
    answers = {}
    for where, base in (('B endpoint', project_url(rig, 'b')),
                        ('A endpoint', rig['api_url'])):
        for action, (method, body) in actions.items():
            answers[where, action] = cluster.api_call(
                '%s/clusters/%s' % (base, cid), method, b, body)[0]
    wrong = {k: v for k, v in answers.items() if v not in REFUSED}
    assert not wrong, 'B was not refused: %s' % wrong
    # The stock CLI, logged in as B with a password through the catalog
    # (it looks the id up, then the name, and finds neither; grow,
    # shrink and upgrade look it up the same way, 2 s a call).
    for args in (('show', cid), ('delete', cid)):
        with pytest.raises(RuntimeError, match='No cluster with a name or '
                           'ID of %r exists' % cid):
            cli.openstack(rig, 'database', 'cluster', *args, parse=False,
                          who='b')
    assert cid not in [c['ID'] for c in cli.openstack(
        rig, 'database', 'cluster', 'list', who='b')]
    # A's cluster as it was
    assert trove_view(rig, cid) == owned['trove']
    assert k2hr3_view(rig, cid, seen) == owned['k2hr3']


def test_b_cannot_read_or_change_as_k2hr3_objects(rig, owned, seen):
    cid = owned['id']
    a_tenant = k2hr3_tenant(rig, 'a')
    b_keystone = keystone.session(rig, 'b').get_token()
    seen['Keystone token of B (K2HR3)'] = b_keystone
    b = 'U=' + cluster.k2hr3_scoped_token(
        rig, b_keystone, rig['keystone']['users']['b']['project_id'])
    seen['K2HR3 token of B'] = b[2:]

    def yrn(kind: str, path: str) -> str:
        return 'yrn:yahoo:::%s:%s:%s' % (a_tenant, kind, path)

    name = 'k2hdkc-' + cid
    resource, role = yrn('resource', name), yrn('role', name + '/server')
    policy = yrn('policy', name)
    role_token = owned['k2hr3']['role tokens'][name + '/server'][0]
    calls = {
        'read resource': ('GET', '/v1/resource/%s' % resource, None),
        'read child resource': (
            'GET', '/v1/resource/%s/server' % resource, None),
        'read policy': ('GET', '/v1/policy/%s' % policy, None),
        'read role': ('GET', '/v1/role/%s' % role, None),
        'issue role token': ('GET', '/v1/role/token/%s' % role, None),
        'list role tokens': ('GET', '/v1/role/token/list/%s' % role, None),
        'write resource': ('POST', '/v1/resource', {'resource': {
            'name': resource, 'type': 'string', 'data': 'B was here',
            'keys': {}}}),
        'delete resource': ('DELETE', '/v1/resource/%s' % resource, None),
        'write policy': ('POST', '/v1/policy', {'policy': {
            'name': policy, 'effect': 'allow', 'resource': [],
            'action': ['yrn:yahoo::::action:read']}}),
        'delete policy': ('DELETE', '/v1/policy/%s' % policy, None),
        'add role member': (
            'PUT', '/v1/role/%s?host=10.0.0.66&port=0' % role, None),
        'delete role': ('DELETE', '/v1/role/%s' % role, None),
        'revoke role token': (
            'DELETE', '/v1/role/token/%s' % role_token, None),
    }
    answers = {what: cluster.k2hr3_call(rig, method, path, b, body)[0]
               for what, (method, path, body) in calls.items()}
    wrong = {k: v for k, v in answers.items() if not 400 <= v < 500}
    assert not wrong, 'K2HR3 did not refuse B: %s' % wrong
    # B's Keystone token is not scoped to A's tenant ...
    status, _ = cluster.k2hr3_call(rig, 'POST', '/v1/user/tokens',
                                   'U=' + b_keystone,
                                   {'auth': {'tenantName': a_tenant}})
    assert status == 404
    # ... nor does B's tenant hold anything of the cluster.
    assert cluster.k2hr3_objects(
        rig, cid, b_keystone,
        rig['keystone']['users']['b']['project_id']) == []
    assert k2hr3_view(rig, cid, seen) == owned['k2hr3']


def test_admin_of_another_project_deletes_as_cluster(rig, owned, seen):
    cid = owned['id']
    admin = keystone.session(rig, 'admin').get_token()
    seen['Keystone token of the admin'] = admin
    admin_project = rig['keystone']['users']['admin']['project_id']
    assert cluster.k2hr3_objects(rig, cid)
    cli.openstack(rig, 'database', 'cluster', 'delete', cid, parse=False,
                  who='admin')
    cluster.wait_gone(rig, cid)
    assert cluster.k2hr3_objects(rig, cid) == []
    assert cluster.k2hr3_objects(rig, cid, admin, admin_project) == []


def test_no_token_or_password_in_any_log(keystone_rig, rig, seen):
    assert seen, 'the tests before saw no token'
    secrets = dict(seen)
    secrets.update(('Keystone token %s' % k, rig[k])
                   for k in ('token', 'admin_token', 'owner_token'))
    secrets.update(('password of %s' % who, user['password'])
                   for who, user in rig['keystone']['users'].items())
    # the pattern finds a real token (so finding none means something)
    assert FERNET.fullmatch(rig['token'].encode())
    # Trove's, Keystone's, K2HR3's, Swift's, each VM's (guest agent,
    # chmpx, k2hdkc; a deleted VM's are copied under logs/vm-<key>)
    state = keystone_rig.state_dir
    logs = sorted(state.rglob('*.log'))
    names = {log.name for log in logs}
    assert {'keystone.log', 'k2hr3.log', 'trove-api.log',
            'trove-taskmanager.log', 'guest-agent.log'} <= names, names
    found = []
    for log in logs:
        data = log.read_bytes()
        found += ['%s in %s' % (what, log.relative_to(state))
                  for what, secret in secrets.items()
                  if secret.encode() in data]
        if FERNET.search(data):
            found.append('a Keystone token in %s' % log.relative_to(state))
    assert not found, found


def project_url(rig: dict[str, Any], who: str) -> str:
    """Trove's endpoint of ``who``'s project, as its catalog names it."""
    return 'http://127.0.0.1:%d/v1.0/%s' % (
        rig['api_port'], rig['keystone']['users'][who]['project_id'])


def k2hr3_tenant(rig: dict[str, Any], who: str) -> str:
    """The K2HR3 tenant of ``who``'s project (its lower-cased name)."""
    return rig['keystone']['users'][who]['project'].lower()


def trove_view(rig: dict[str, Any], cid: str) -> dict[str, Any]:
    """What project A sees of cluster ``cid`` through Trove."""
    shown = cluster.api_call('%s/clusters/%s' % (rig['api_url'], cid),
                             'GET', rig['token'])[1]['cluster']
    return {'task': shown['task']['name'],
            'datastore': shown['datastore'],
            'members': sorted((m['id'], m['status'], m['flavor']['id'],
                               json.dumps(m.get('ring_state'),
                                          sort_keys=True))
                              for m in shown['instances'])}


def k2hr3_view(rig: dict[str, Any], cid: str,
               seen: dict[str, str]) -> dict[str, Any]:
    """Every K2HR3 object of the cluster as A reads it with its own token
    in its tenant: resources, policy and roles with their contents, and
    the role tokens of each role."""
    scoped = 'U=' + cluster.k2hr3_scoped_token(rig, rig['token'],
                                               rig['project_id'])
    seen['K2HR3 token of A'] = scoped[2:]
    objects = cluster.k2hr3_objects(rig, cid)
    view: dict[str, Any] = {'objects': objects, 'role tokens': {}}
    for entry in objects:
        kind, path = entry.split(':', 1)
        status, body = cluster.k2hr3_call(
            rig, 'GET', '/v1/%s/%s?expand=false' % (kind, path), scoped)
        assert status == 200, (entry, status)
        view[entry] = body
        if kind == 'role':
            status, body = cluster.k2hr3_call(
                rig, 'GET', '/v1/role/token/list/%s?expand=false' % path,
                scoped)
            assert status == 200, (entry, status)
            view['role tokens'][path] = sorted(body['tokens'])
            seen.update(('role token %d of %s' % (n, path), t)
                        for n, t in enumerate(body['tokens']))
    return view


def role_tokens_on_guests(rig: dict[str, Any]) -> list[str]:
    state = pathlib.Path(rig['state_dir'])
    found = [json.loads(p.read_text())['role_token']
             for p in state.glob('vms/*/conf/k2hr3-access.json')]
    assert found, 'no guest stored its K2HR3 access'
    return found
