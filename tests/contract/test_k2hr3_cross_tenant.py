"""Contract: a user token of one K2HR3 tenant reaches nothing of another.

What the real K2HR3 API 2.0.3 answers when a token scoped to tenant B
names an object of tenant A by its full YRN (its route code: the GET
router of ``/v1/role`` compares the YRN's tenant with the token's before
anything else and answers 400 for the role, a role token and the role's
token list; a revoke of another tenant's role token is 403; writes of
another tenant's resource or role are 400; a read of its resource 404;
a read or delete of its policy and a delete of its resource 400, from
src/routes/policy.ts and resource.ts),
and that a Keystone token cannot be scoped to a project its user has no
role in (404, the identity back end's failure). The rig's tenant
isolation test (tests/functional/rig/test_tenant_isolation.py) relies on
the stand-in refusing these as the real server does.
"""

from __future__ import annotations

from collections.abc import Iterator
import json
from typing import Any

import pytest

from tests.contract.k2hr3_replay import Replay
from tests.standins.k2hr3 import K2hr3StandIn

A, B = 'tenant0', 'tenant1'
ROLE_A = 'yrn:yahoo:::%s:role:c/server' % A
RESOURCE_A = 'yrn:yahoo:::%s:resource:c' % A
POLICY_A = 'yrn:yahoo:::%s:policy:c' % A
WRONG_TENANT = ('GET request query has wrong tenant yrn full path(tenant=%s)'
                ' or not specify tenant.' % A)


@pytest.fixture
def standin() -> Iterator[K2hr3StandIn]:
    server = K2hr3StandIn('127.0.0.1', 0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _call(standin: K2hr3StandIn, method: str, target: str, token: str,
          body: Any = None) -> tuple[int, Any]:
    replay = Replay({}, '127.0.0.1', standin.port)
    try:
        status, _, raw = replay.send({
            'method': method, 'target': target, 'body': body,
            'headers': {'x-auth-token': token,
                        'content-type': 'application/json'}})
    finally:
        replay.close()
    return status, json.loads(raw) if raw else None


def _scoped(standin: K2hr3StandIn, user: str, tenant: str) -> str:
    _, body = _call(standin, 'PUT', '/v1/user/tokens?username=%s&password=p'
                    % user, '')
    _, body = _call(standin, 'PUT', '/v1/user/tokens?tenantname=%s' % tenant,
                    'U=' + body['token'])
    return 'U=' + body['token']


@pytest.fixture
def a_objects(standin: K2hr3StandIn) -> dict[str, str]:
    """Tenant A's resource, role (with a member) and a role token."""
    user = _scoped(standin, 'usera', A)
    assert _call(standin, 'POST', '/v1/resource', user, {'resource': {
        'name': 'c', 'type': 'string', 'data': 'x', 'keys': {}}})[0] == 201
    assert _call(standin, 'POST', '/v1/policy', user, {'policy': {
        'name': 'c', 'effect': 'allow', 'action': ['yrn:yahoo::::action:read'],
        'resource': []}})[0] == 201
    assert _call(standin, 'POST', '/v1/role', user,
                 {'role': {'name': 'c/server'}})[0] == 201
    assert _call(standin, 'PUT', '/v1/role/c/server?host=10.0.0.1&port=0',
                 user)[0] == 201
    status, body = _call(standin, 'GET', '/v1/role/token/c/server', user)
    assert status == 200
    return {'user': user, 'role_token': body['token']}


def test_other_tenants_role_reads_are_400(standin, a_objects):
    b = _scoped(standin, 'userb', B)
    for target in ('/v1/role/%s' % ROLE_A,
                   '/v1/role/token/%s' % ROLE_A,
                   '/v1/role/token/list/%s' % ROLE_A):
        status, body = _call(standin, 'GET', target, b)
        assert (status, body['message']) == (400, WRONG_TENANT), target


def test_other_tenants_objects_cannot_be_changed(standin, a_objects):
    b = _scoped(standin, 'userb', B)
    assert _call(standin, 'GET', '/v1/resource/%s' % RESOURCE_A,
                 b)[0] == 404
    assert _call(standin, 'POST', '/v1/resource', b, {'resource': {
        'name': RESOURCE_A, 'type': 'string', 'data': 'evil',
        'keys': {}}})[0] == 400
    assert _call(standin, 'DELETE', '/v1/role/token/'
                 + a_objects['role_token'], b)[0] == 403
    assert _call(standin, 'DELETE', '/v1/role/%s' % ROLE_A, b)[0] == 403
    assert _call(standin, 'PUT', '/v1/role/%s?host=10.0.0.66&port=0'
                 % ROLE_A, b)[0] == 403
    # the delete and read of the policy and the delete of the (not
    # referenced) resource are refused before anything is looked up
    assert _call(standin, 'DELETE', '/v1/resource/%s' % RESOURCE_A,
                 b) == (400, None)
    assert _call(standin, 'DELETE', '/v1/policy/%s' % POLICY_A,
                 b) == (400, None)
    status, body = _call(standin, 'GET', '/v1/policy/%s' % POLICY_A, b)
    assert (status, body['message']) == (400, (
        'Request query has wrong yrn full path(tenant=%s) to policy'
        '(tenant=%s)' % (A, B)))
    # A's objects are as A left them
    a = a_objects['user']
    status, body = _call(standin, 'GET', '/v1/role/token/list/c/server'
                         '?expand=false', a)
    assert (status, body['tokens']) == (200, [a_objects['role_token']])
    status, body = _call(standin, 'GET', '/v1/role/c/server?expand=false',
                         a)
    assert [h.split()[0] for h in body['role']['hosts']['ips']] == [
        '10.0.0.1']
    status, body = _call(standin, 'GET', '/v1/resource/c?expand=false', a)
    assert (status, body['resource']['string']) == (200, 'x')
    status, body = _call(standin, 'GET', '/v1/policy/c', a)
    assert (status, body['policy']['effect']) == (200, 'allow')


def test_keystone_token_is_not_scoped_to_a_project_of_another_user(
        standin: K2hr3StandIn) -> None:
    standin.add_keystone_token('ks-b', 'userb', ['project-b'])
    status, body = _call(standin, 'POST', '/v1/user/tokens', 'U=ks-b',
                         {'auth': {'tenantName': 'project-a'}})
    assert status == 404 and body['result'] is False
    status, _ = _call(standin, 'POST', '/v1/user/tokens', 'U=ks-b',
                      {'auth': {'tenantName': 'project-b'}})
    assert status == 201
