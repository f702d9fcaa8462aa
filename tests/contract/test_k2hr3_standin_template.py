"""Contract: the stand-in renders the reference template like K2HR3.

Builds the captured set-up through the HTTP API (parent template
resource, SERVER/SLAVE children, policy, roles, members) and compares the
role-token reads with ``rendered/*.ini`` byte for byte; checks the 404 of
templates the engine cannot load and the documented edge cases seen in
the captures.
"""

from __future__ import annotations

import http.client
import json
import pathlib

import pytest

from tests.standins.k2hr3 import K2hr3StandIn
from tests.standins.k2hr3.fixture import k2hr3_standin  # noqa: F401

TENANT = 'tenant0'
CUK = '6f1c2a4e-0b1d-4c55-9a53-6d1f0e2b7a0%d'
SLAVE_CUK = '9b8d7c6e-5f4a-4b3c-8d2e-1f0a9b8c7d01'
RES = 'yrn:yahoo:::tenant0:resource:mydkc/'
ROLE = 'yrn:yahoo:::tenant0:role:mydkc/'


def call(standin: K2hr3StandIn, method: str, target: str,
         token: str | None = None, body: object = None) -> tuple[int, dict]:
    headers = {'x-auth-token': token} if token else {}
    data = None
    if body is not None:
        data = json.dumps(body)
        headers['content-type'] = 'application/json'
    conn = http.client.HTTPConnection('127.0.0.1', standin.port, timeout=10)
    try:
        conn.request(method, target, body=data, headers=headers)
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    return response.status, json.loads(raw) if raw else {}


def scoped_token(standin: K2hr3StandIn) -> str:
    status, body = call(standin, 'POST', '/v1/user/tokens', body={
        'auth': {'tenantName': TENANT, 'passwordCredentials': {
            'username': 'dkcadmin', 'password': 'x'}}})
    assert status == 201
    return 'U=' + body['token']


def add_server(standin: K2hr3StandIn, user: str, number: int) -> None:
    status, _ = call(
        standin, 'PUT', '/v1/role/mydkc/server?host=127.0.0.1&port=%d&cuk=%s'
        '&extra=openstack-auto-v1&tag=mydkc-server-%d.example.net'
        % (28018 + 2 * number, CUK % number, number), user)
    assert status == 201


@pytest.fixture
def cluster(k2hr3_standin: K2hr3StandIn,  # noqa: F811
            reference_dir: pathlib.Path) -> dict:
    """The captured cluster set-up with 3 servers and 1 slave."""
    standin = k2hr3_standin
    user = scoped_token(standin)
    template = (reference_dir / 'k2hr3' / 'mydkc_resource.templ').read_text()
    keys = {'cluster-name': 'mydkc', 'chmpx-server-port': 28020,
            'chmpx-server-ctlport': 28021, 'chmpx-slave-ctlport': 28031}
    for name, data, res_keys in (
            ('mydkc', template, keys),
            ('mydkc/server', '', {'chmpx-mode': 'SERVER'}),
            ('mydkc/slave', '', {'chmpx-mode': 'SLAVE'})):
        assert call(standin, 'POST', '/v1/resource', user, {'resource': {
            'name': name, 'type': 'string', 'data': data,
            'keys': res_keys}})[0] == 201
    assert call(standin, 'POST', '/v1/policy', user, {'policy': {
        'name': 'mydkc', 'effect': 'allow',
        'action': ['yrn:yahoo::::action:read'],
        'resource': [RES + 'server', RES + 'slave']}})[0] == 201
    for name, policies in (('mydkc', ['yrn:yahoo:::tenant0:policy:mydkc']),
                           ('mydkc/server', []), ('mydkc/slave', [])):
        assert call(standin, 'POST', '/v1/role', user, {'role': {
            'name': name, 'policies': policies}})[0] == 201
    for number in (1, 2, 3):
        add_server(standin, user, number)
    assert call(standin, 'PUT', '/v1/role/mydkc/slave?host=127.0.0.1'
                '&port=28031&cuk=%s&extra=openstack-auto-v1'
                '&tag=mydkc-slave-1.example.net' % SLAVE_CUK, user)[0] == 201
    tokens = {}
    for role in ('server', 'slave'):
        status, body = call(standin, 'GET',
                            '/v1/role/token/mydkc/%s?expire=0' % role, user)
        assert status == 200
        tokens[role] = 'R=' + body['token']
    return {'standin': standin, 'user': user, 'tokens': tokens}


def rendered(cluster: dict, role: str) -> str:
    status, body = call(cluster['standin'], 'GET', '/v1/resource/' + RES
                        + role, cluster['tokens'][role])
    assert status == 200, body
    return body['resource']


def expected(reference_dir: pathlib.Path, name: str) -> str:
    return (reference_dir / 'k2hr3' / 'rendered' / name).read_text()


def test_renders_3_and_4_hosts_and_after_delete(
        cluster: dict, reference_dir: pathlib.Path) -> None:
    assert rendered(cluster, 'server') == expected(reference_dir,
                                                   'server_3hosts.ini')
    assert rendered(cluster, 'slave') == expected(reference_dir,
                                                  'slave_3hosts.ini')
    add_server(cluster['standin'], cluster['user'], 4)
    assert rendered(cluster, 'server') == expected(reference_dir,
                                                   'server_4hosts.ini')
    assert rendered(cluster, 'slave') == expected(reference_dir,
                                                  'slave_4hosts.ini')
    status, _ = call(cluster['standin'], 'DELETE',
                     '/v1/role/mydkc/server?host=127.0.0.1&port=28026&cuk='
                     + CUK % 4, cluster['user'])
    assert status == 204
    assert rendered(cluster, 'server') == expected(reference_dir,
                                                   'server_after_delete4.ini')


def test_renders_without_hosts(cluster: dict,
                               reference_dir: pathlib.Path) -> None:
    standin, user = cluster['standin'], cluster['user']
    for number in (1, 2, 3):
        assert call(standin, 'DELETE', '/v1/role/mydkc/server?host=127.0.0.1'
                    '&port=%d&cuk=%s' % (28018 + 2 * number, CUK % number),
                    user)[0] == 204
    assert call(standin, 'DELETE', '/v1/role/mydkc/slave?host=127.0.0.1'
                '&port=28031&cuk=' + SLAVE_CUK, user)[0] == 204
    assert rendered(cluster, 'server') == expected(reference_dir,
                                                   'server_0hosts.ini')


def test_members_iterate_in_key_string_order(cluster: dict) -> None:
    """Real K2HR3 2.0.3 iterates members in the order of the key string
    ("127.0.0.1,0,.." < "127.0.0.1,28020,.." < "127.0.0.1,3000,.."), not
    in insertion order or by numeric port."""
    standin, user = cluster['standin'], cluster['user']
    assert call(standin, 'PUT', '/v1/role/mydkc/server?host=127.0.0.1'
                '&port=3000&cuk=late', user)[0] == 201
    assert call(standin, 'PUT', '/v1/role/mydkc/server?host=127.0.0.1'
                '&port=0&cuk=anyport', user)[0] == 201
    text = rendered(cluster, 'server')
    servers = text.split('# SLAVE NODES SECTION')[0]
    cuks = [line.split('= ')[1] for line in servers.splitlines()
            if line.startswith('CUK ')]
    assert cuks == ['anyport', CUK % 1, CUK % 2, CUK % 3, 'late']
    # port 0 ("any") falls back to the resource keys
    assert 'PORT                = 28020\nCTLPORT             = 28021\n' \
        'CUSTOM_ID_SEED      = \n' in text


@pytest.mark.parametrize('data', [
    '{{#!k2hr3template }}\nA\n{{ if 1 == 1 }}\nB\n',       # captured
    '{{#!k2hr3template }}\nvalue = {{= 1 + }}\n',          # captured
    '{{#!k2hr3template }}\n{{ while 1 }}x{{ done }}\n',    # unsupported
    '{{#!k2hr3template }}\n{{{ literal }}}\n',             # unsupported
    '{{#!k2hr3template }}\n{{ endif }}\n',
    '{{#!k2hr3template }}\n{{= %a%{\'x\'}{\'y\'} }}\n',    # 2 indexes
    '{{#!other }}\nA\n',
])
def test_unloadable_template_is_404_with_raw_data(
        k2hr3_standin: K2hr3StandIn, data: str) -> None:  # noqa: F811
    user = scoped_token(k2hr3_standin)
    assert call(k2hr3_standin, 'POST', '/v1/resource', user, {'resource': {
        'name': 'broken', 'type': 'string', 'data': data,
        'keys': {'cluster-name': 'x'}}})[0] == 201
    status, body = call(k2hr3_standin, 'GET',
                        '/v1/resource/broken?expand=true', user)
    assert status == 404
    assert body == {'result': False,
                    'message': 'Could not load resource for template '
                               'engine: ' + json.dumps(data)}
    status, body = call(k2hr3_standin, 'GET',
                        '/v1/resource/broken?expand=false', user)
    assert status == 200
    assert body['resource']['string'] == data


def test_expanded_keys_show_template_variables(cluster: dict) -> None:
    status, body = call(cluster['standin'], 'GET',
                        '/v1/resource/mydkc/server?expand=true',
                        cluster['user'])
    assert status == 200
    keys = body['resource']['keys']
    assert list(keys)[-4:] == ['host_key', 'one_host', 'one_port',
                               'one_ctlport']
    assert keys['host_key'] == '127.0.0.1,28031,' + SLAVE_CUK
    assert keys['one_port'] == 28024        # last server, kept by slaves
    assert keys['one_host']['port'] == 28031
