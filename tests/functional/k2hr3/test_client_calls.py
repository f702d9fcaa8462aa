"""Every K2HR3 client call over real HTTP: against the K2HR3 stand-in, and
(except the Keystone login, which a dummyuserapi K2HR3 does not serve)
against a real K2HR3 when ``K2HDKC_TEST_K2HR3_URL`` names one (backends)."""

from __future__ import annotations

import pytest

from tests.functional.k2hr3.helpers import KEYSTONE_TOKEN
from tests.functional.k2hr3.helpers import TENANT
from tests.functional.k2hr3.helpers import make_client
from tests.functional.k2hr3.helpers import requests_to
from trove_k2hdkc.k2hr3 import K2hr3HTTPError
from trove_k2hdkc.k2hr3 import RoleHost
from trove_k2hdkc.k2hr3 import Yrn


def test_user_token_from_keystone_is_scoped(k2hr3_standin, api):
    client, token = api
    assert token.tenant == TENANT
    info = client.token_info(token)
    assert info['scoped'] is True
    assert [t['name'] for t in info['tenants']] == [TENANT]
    posts = requests_to(k2hr3_standin, 'POST', '/v1/user/tokens')
    assert posts[0][2].get('x-auth-token') == 'U=' + KEYSTONE_TOKEN


def test_unknown_keystone_token_is_an_http_error(k2hr3_standin):
    client = make_client(k2hr3_standin)
    with pytest.raises(K2hr3HTTPError) as info:
        client.scoped_token_from_keystone('not-a-known-token', TENANT)
    assert 400 <= info.value.status < 500
    assert 'not-a-known-token' not in str(info.value)
    client.close()


def test_resource_crud(backend):
    client, token = backend.client, backend.token
    client.put_resource(token, 'res1', data='hello {{= %k% }}',
                        keys={'k': 'v', 'n': 1})
    client.put_resource(token, 'res1/child', data='', keys={'c': 2})
    raw = client.get_resource(token, 'res1', expand=False)
    assert raw.string == 'hello {{= %k% }}' and raw.keys['n'] == 1
    expanded = client.get_resource(token, 'res1', expand=True)
    assert expanded.string == 'hello v'
    child = client.get_resource(token, 'res1/child', expand=True)
    assert child.keys['k'] == 'v' and child.keys['c'] == 2
    # Upsert: keys replaced, data kept when not given.
    client.put_resource(token, 'res1', keys={'k': 'w'})
    assert client.get_resource(token, 'res1', expand=True).string == (
        'hello w')
    client.delete_resource(token, 'res1/child')
    client.delete_resource(token, 'res1')
    client.delete_resource(token, 'res1')  # already gone: still fine
    assert backend.objects('res1')['resource'] == []


def test_policy_and_role_crud(backend):
    client, token = backend.client, backend.token
    res = Yrn(token.tenant, 'resource', 'c1/server')
    client.put_resource(token, 'c1', data='x', keys={})
    client.put_resource(token, 'c1/server', data='', keys={})
    client.put_policy(token, 'c1', [res])
    policy = client.get_policy(token, 'c1')
    assert policy.effect == 'allow' and policy.resource == (str(res),)
    client.put_role(token, 'c1', policies=[Yrn(token.tenant, 'policy', 'c1')])
    client.put_role(token, 'c1/server')
    role = client.get_role(token, 'c1')
    assert role.policies == (str(Yrn(token.tenant, 'policy', 'c1')),)
    assert role.hosts == ()
    for name in ('c1/server', 'c1'):
        client.delete_role(token, name)
    client.delete_policy(token, 'c1')
    client.delete_policy(token, 'c1')
    for name in ('c1/server', 'c1'):
        client.delete_resource(token, name)
    assert backend.has_none('c1')


def test_role_hosts_and_role_tokens(backend):
    client, token, standin = backend.client, backend.token, backend.standin
    client.put_resource(token, 'c2', data='A={{= %a% }}', keys={'a': 1})
    client.put_resource(token, 'c2/server', data='', keys={'m': 'S'})
    server_res = Yrn(token.tenant, 'resource', 'c2/server')
    client.put_policy(token, 'c2', [server_res])
    client.put_role(token, 'c2', policies=[Yrn(token.tenant, 'policy', 'c2')])
    client.put_role(token, 'c2/server')
    member = RoleHost('10.1.2.3', 8020, 'cuk-1', 'openstack-auto-v1',
                      'tag-1')
    client.add_role_host(token, 'c2/server', member)
    client.add_role_host(token, 'c2/server', member)  # idempotent
    assert client.get_role(token, 'c2/server').hosts == (member,)

    role_token = client.issue_role_token(token, 'c2/server', expire=0)
    assert role_token.token and role_token.registerpath
    if standin:
        issue = requests_to(standin, 'GET', '/v1/role/token/c2/server')
        assert issue[-1][1].endswith('expire=0')
    listed = client.list_role_tokens(token, 'c2/server')
    assert [t.token for t in listed] == [role_token.token]
    assert listed[0].expire is not None and listed[0].expire.year > 2030

    assert client.read_resource_by_role(role_token, server_res) == 'A=1'
    assert client.read_resource_key_by_role(role_token, server_res,
                                            'a') == 1
    assert client.read_resource_key_by_role(role_token, server_res,
                                            'm') == 'S'
    with pytest.raises(K2hr3HTTPError) as info:
        client.read_resource_key_by_role(role_token, server_res, 'nokey')
    assert info.value.status == 404

    # Self-registration by role token: the member is the source address.
    # A DELETE with R= revokes that role token (K2HR3 semantics), so use a
    # second one.
    guest_token = client.issue_role_token(token, 'c2/server', expire=3600)
    role_yrn = Yrn(token.tenant, 'role', 'c2/server')
    client.add_role_host_by_role_token(guest_token, role_yrn, port=8022,
                                       cuk='cuk-2', extra='openstack-auto-v1',
                                       tag='t2')
    hosts = client.get_role(token, 'c2/server').hosts
    assert [(h.host, h.port, h.cuk, h.tag) for h in hosts
            if h.cuk == 'cuk-2'] == [('127.0.0.1', 8022, 'cuk-2', 't2')]
    if standin:
        reg = requests_to(standin, 'PUT', '/v1/role/yrn:')[-1]
        assert reg[2].get('x-auth-token') == 'R=' + guest_token.token
        assert 'inboundip' not in reg[1]  # never the literal "None"
    client.remove_role_host_by_role_token(guest_token, role_yrn, port=8022,
                                          cuk='cuk-2')
    assert [t.token for t in client.list_role_tokens(
        token, 'c2/server')] == [role_token.token]

    client.remove_role_host(token, 'c2/server', '10.1.2.3', 8020, 'cuk-1')
    client.remove_role_host(token, 'c2/server', '127.0.0.1', 8022, 'cuk-2')
    assert client.get_role(token, 'c2/server').hosts == ()

    client.revoke_role_token(token, role_token)
    assert client.list_role_tokens(token, 'c2/server') == []
    with pytest.raises(K2hr3HTTPError) as info:
        client.read_resource_by_role(role_token, server_res)
    assert info.value.status == 401
    assert role_token.token not in str(info.value)
    for name in ('c2/server', 'c2'):
        client.delete_role(token, name)
    client.delete_policy(token, 'c2')
    for name in ('c2/server', 'c2'):
        client.delete_resource(token, name)
    assert backend.has_none('c2')


def test_error_carries_status_method_path_message(backend):
    client, token = backend.client, backend.token
    with pytest.raises(K2hr3HTTPError) as info:
        client.get_resource(token, 'nosuchresource', expand=True)
    assert info.value.status == 404 and info.value.method == 'GET'
    assert info.value.path == '/v1/resource/nosuchresource'
    assert info.value.message
