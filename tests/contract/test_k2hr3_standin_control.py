"""The stand-in's test controls and extensions (no captures involved).

Failure injection, request log, snapshot, Keystone tokens, TLS, source IP
from X-Forwarded-For, and the ``python -m tests.standins.k2hr3`` runner.
"""

from __future__ import annotations

import http.client
import json
import pathlib
import shutil
import signal
import ssl
import subprocess
import sys

import pytest

from tests.standins.dataplane import faults
from tests.standins.k2hr3 import K2hr3StandIn
from tests.standins.k2hr3.fixture import k2hr3_standin  # noqa: F401

REPO = pathlib.Path(__file__).resolve().parents[2]


def request(standin: K2hr3StandIn, method: str, target: str,
            headers: dict | None = None, body: object = None,
            context: ssl.SSLContext | None = None) -> tuple[int, dict]:
    if context is None:
        conn = http.client.HTTPConnection('127.0.0.1', standin.port,
                                          timeout=10)
    else:
        conn = http.client.HTTPSConnection('127.0.0.1', standin.port,
                                           timeout=10, context=context)
    try:
        data = None if body is None else json.dumps(body)
        conn.request(method, target, body=data, headers=headers or {})
        response = conn.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else {}
    finally:
        conn.close()


def test_faults_file_fails_then_holds_requests(
        k2hr3_standin: K2hr3StandIn,  # noqa: F811
        tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rig reaches the stand-in process through the data-plane faults
    file: ``k2hr3_fail`` answers 5xx ``times`` times, ``k2hr3_hang``
    holds a request, then answers it; each firing is an event."""
    path = tmp_path / faults.FILE_NAME
    monkeypatch.setenv(faults.ENV, str(path))
    faults.write(path, k2hr3_fail=faults.k2hr3_fail(502, times=2))
    assert request(k2hr3_standin, 'GET', '/')[0] == 502
    assert request(k2hr3_standin, 'GET', '/')[0] == 502
    assert request(k2hr3_standin, 'GET', '/')[0] == 200
    faults.write(path, k2hr3_hang=faults.k2hr3_hang(0.1))
    assert request(k2hr3_standin, 'GET', '/') == (200, {'version': ['v1']})
    assert [e['fault'] for e in faults.events(path)] == [
        'k2hr3_fail', 'k2hr3_fail', 'k2hr3_hang']
    assert request(k2hr3_standin, 'GET', '/')[0] == 200
    assert len(faults.events(path)) == 3


def user_token(standin: K2hr3StandIn, tenant: str = 'tenant0') -> str:
    status, body = request(standin, 'PUT', '/v1/user/tokens?username=u'
                           '&password=p&tenantname=' + tenant)
    assert status == 201
    return 'U=' + body['token']


def test_fail_next_answers_the_status_then_recovers(
        k2hr3_standin: K2hr3StandIn) -> None:  # noqa: F811
    k2hr3_standin.fail_next(2, status=503)
    for _ in range(2):
        status, body = request(k2hr3_standin, 'GET', '/')
        assert status == 503
        assert body['result'] is False and body['message']
    assert request(k2hr3_standin, 'GET', '/') == (200, {'version': ['v1']})
    assert [r[:2] for r in k2hr3_standin.requests] == [('GET', '/')] * 3


def test_drop_next_closes_without_reply(
        k2hr3_standin: K2hr3StandIn) -> None:  # noqa: F811
    k2hr3_standin.drop_next(1)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        request(k2hr3_standin, 'GET', '/v1')
    assert request(k2hr3_standin, 'GET', '/')[0] == 200
    assert len(k2hr3_standin.requests) == 2


def test_requests_record_method_target_and_headers(
        k2hr3_standin: K2hr3StandIn) -> None:  # noqa: F811
    request(k2hr3_standin, 'GET', '/v1/user/tokens?x=1',
            {'X-Auth-Token': 'U=abc'})
    method, target, headers = k2hr3_standin.requests[-1]
    assert (method, target) == ('GET', '/v1/user/tokens?x=1')
    assert headers['x-auth-token'] == 'U=abc'


def test_snapshot_lists_tenant_objects(
        k2hr3_standin: K2hr3StandIn) -> None:  # noqa: F811
    user = {'x-auth-token': user_token(k2hr3_standin)}
    for target in ('/v1/resource?name=c&type=string&data=x',
                   '/v1/resource?name=c/server&data=',
                   '/v1/policy?name=c&effect=allow&action=%5B%5D',
                   '/v1/role?name=c/server',
                   '/v1/role/c/server?host=10.0.0.1&port=8020&cuk=i1'):
        assert request(k2hr3_standin, 'PUT', target, user)[0] == 201
    assert request(k2hr3_standin, 'GET', '/v1/role/token/c/server',
                   user)[0] == 200
    assert k2hr3_standin.snapshot('tenant0') == {
        'resources': ['c', 'c/server'], 'policies': ['c'],
        'roles': ['c/server'],
        'role_hosts': {'c/server': ['10.0.0.1 8020 i1']},
        'role_tokens': 1}
    assert k2hr3_standin.snapshot('tenant1')['resources'] == []


def test_keystone_token_gives_k2hr3_tokens(
        k2hr3_standin: K2hr3StandIn) -> None:  # noqa: F811
    k2hr3_standin.add_keystone_token('ks-token-1', user='demo',
                                     tenants=['tenant0'])
    header = {'x-auth-token': 'U=ks-token-1'}
    status, body = request(k2hr3_standin, 'POST', '/v1/user/tokens', header,
                           {'auth': {'tenantName': 'tenant0'}})
    assert status == 201 and body['scoped'] is True
    status, info = request(k2hr3_standin, 'GET', '/v1/user/tokens',
                           {'x-auth-token': 'U=' + body['token']})
    assert status == 200
    assert info['user'] == 'demo'
    assert [t['name'] for t in info['tenants']] == ['tenant0']
    status, body = request(k2hr3_standin, 'POST', '/v1/user/tokens', header,
                           {'auth': {}})
    assert status == 201 and body['scoped'] is False
    status, _ = request(k2hr3_standin, 'POST', '/v1/user/tokens', header,
                        {'auth': {'tenantName': 'other'}})
    assert status == 404
    status, _ = request(k2hr3_standin, 'POST', '/v1/user/tokens',
                        {'x-auth-token': 'U=ks-unknown'},
                        {'auth': {'tenantName': 'tenant0'}})
    assert status == 401


def test_role_token_registration_uses_forwarded_source_ip(
        k2hr3_standin: K2hr3StandIn) -> None:  # noqa: F811
    user = {'x-auth-token': user_token(k2hr3_standin)}
    assert request(k2hr3_standin, 'POST', '/v1/role', user,
                   {'role': {'name': 'c/server'}})[0] == 201
    status, body = request(k2hr3_standin, 'GET',
                           '/v1/role/token/c/server?expire=0', user)
    assert status == 200
    role = {'x-auth-token': 'R=' + body['token'],
            'x-forwarded-for': '10.1.2.3'}
    assert request(k2hr3_standin, 'PUT', '/v1/role/yrn:yahoo:::tenant0:role:'
                   'c/server?port=8020&cuk=vm1', role)[0] == 201
    assert k2hr3_standin.snapshot('tenant0')['role_hosts'] == {
        'c/server': ['10.1.2.3 8020 vm1']}
    # tokenless member check from that address
    assert request(k2hr3_standin, 'HEAD', '/v1/role/yrn:yahoo:::tenant0:'
                   'role:c/server?port=8020&cuk=vm1',
                   {'x-forwarded-for': '10.1.2.3'})[0] == 204
    assert request(k2hr3_standin, 'HEAD', '/v1/role/yrn:yahoo:::tenant0:'
                   'role:c/server?port=8020&cuk=vm1')[0] == 403


@pytest.fixture
def tls_files(tmp_path: pathlib.Path) -> tuple[str, str]:
    if shutil.which('openssl') is None:
        pytest.skip('openssl command not available')
    cert, key = tmp_path / 'cert.pem', tmp_path / 'key.pem'
    subprocess.run(
        ['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
         '-keyout', str(key), '-out', str(cert), '-days', '1',
         '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
        check=True, capture_output=True, timeout=60)
    return str(cert), str(key)


def test_tls_with_verification(tls_files: tuple[str, str]) -> None:
    cert, key = tls_files
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    standin = K2hr3StandIn('127.0.0.1', 0, ssl_context=server_ctx)
    standin.start()
    try:
        assert standin.url.startswith('https://127.0.0.1:')
        client_ctx = ssl.create_default_context(cafile=cert)
        assert request(standin, 'GET', '/', context=client_ctx) == (
            200, {'version': ['v1']})
        with pytest.raises(ssl.SSLError):
            request(standin, 'GET', '/',
                    context=ssl.create_default_context())
    finally:
        standin.stop()
    assert standin.leaks() == []


def test_module_runner_serves_until_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, '-m', 'tests.standins.k2hr3', '--port', '0',
         '--keystone-token', 'ks1=demo:tenant0,tenant1'],
        cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith('K2HR3 stand-in listening on http://')
        port = int(line.rsplit(':', 1)[1])
        conn = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
        conn.request('POST', '/v1/user/tokens', body='{"auth":{}}',
                     headers={'x-auth-token': 'U=ks1'})
        response = conn.getresponse()
        assert response.status == 201
        response.read()
        conn.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def test_stop_closes_idle_keep_alive_connections() -> None:
    standin = K2hr3StandIn('127.0.0.1', 0)
    standin.start()
    conn = http.client.HTTPConnection('127.0.0.1', standin.port, timeout=10)
    try:
        conn.request('GET', '/')
        conn.getresponse().read()          # connection stays open (1.1)
        standin.stop()
        assert standin.leaks() == []
        with pytest.raises((http.client.HTTPException, ConnectionError)):
            conn.request('GET', '/')
            conn.getresponse()
    finally:
        conn.close()
        standin.stop()
