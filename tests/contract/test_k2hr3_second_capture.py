"""Contract: the K2HR3 stand-in follows the second capture (F1-F4).

``tests/data/k2hr3/second_capture.json`` holds the exchanges with the real
K2HR3 API 2.0.3 that decide how members are removed and how a teardown
ends: a DELETE naming ``cuk`` keeps a member with a custom ``extra`` (F1),
a token of a deleted role answers 403 on revoke and its role's token list
404 (F2, F4), host strings hide custom extras (F3), and a policy's
``reference`` stays 0 (F4).  They are replayed in order against one
stand-in; statuses and bodies must match (no headers were recorded).
"""

from __future__ import annotations

from collections.abc import Iterator
import json
import time
from typing import Any

import pytest

from tests.contract import k2hr3_capture_file
from tests.contract.k2hr3_replay import Replay
from tests.standins.k2hr3 import K2hr3StandIn

FILE = 'second_capture.json'


@pytest.fixture
def standin() -> Iterator[K2hr3StandIn]:
    server = K2hr3StandIn('127.0.0.1', 0)
    server.start()
    try:
        yield server
    finally:
        server.stop()
    assert not server.leaks()


@pytest.fixture
def replayed(standin: K2hr3StandIn) -> dict[str, list[str]]:
    return k2hr3_capture_file.replay(FILE, standin.port)


@pytest.mark.parametrize('name', k2hr3_capture_file.names(FILE))
def test_exchange_matches_second_capture(replayed: dict[str, list[str]],
                                         name: str) -> None:
    assert replayed[name] == []


def test_every_fact_has_exchanges() -> None:
    sources = {e['source']
               for e in k2hr3_capture_file.load(FILE)['exchanges']}
    for fact in ('F1', 'F2', 'F3', 'F4'):
        assert any(fact in s for s in sources), fact


# -- what the data file cannot hold ------------------------------------------

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


def _scoped(standin: K2hr3StandIn) -> str:
    _, body = _call(standin, 'PUT', '/v1/user/tokens?username=u&password=p',
                    '')
    _, body = _call(standin, 'PUT', '/v1/user/tokens?tenantname=tenant0',
                    'U=' + body['token'])
    return 'U=' + body['token']


def test_revoking_an_expired_role_token_is_403(
        standin: K2hr3StandIn) -> None:
    """F2: an expired token answers 403 like a deleted one (the role is
    still there)."""
    user = _scoped(standin)
    assert _call(standin, 'POST', '/v1/role', user,
                 {'role': {'name': 'r'}})[0] == 201
    _, body = _call(standin, 'GET', '/v1/role/token/r?expire=60', user)
    standin.state.role_tokens[body['token']].expire = time.time() - 1
    assert _call(standin, 'DELETE', '/v1/role/token/' + body['token'],
                 user) == (403, None)


def _member_variable(standin: K2hr3StandIn, user: str, extra: str) -> dict:
    """The template's ``one_host`` for a role whose only member has
    ``extra`` (assigned variables leak into ``keys``, first capture)."""
    role = 'r-' + extra
    hosts = 'yrn:yahoo:::tenant0:role:%s/hosts/ip' % role
    data = ('{{#!k2hr3template }}\n'
            '{{ foreach %%k%% in %%%s%% }}\n'
            '{{ %%one_host%% = %%%s%%{%%k%%} }}\n'
            '{{ done }}\n' % (hosts, hosts))
    _call(standin, 'PUT', '/v1/role/%s?host=10.0.0.1&port=0&cuk=c1'
          '&extra=%s' % (role, extra), user)
    _call(standin, 'POST', '/v1/resource', user,
          {'resource': {'name': role, 'type': 'string', 'data': data,
                        'keys': {}}})
    status, body = _call(standin, 'GET', '/v1/resource/%s?expand=true'
                         % role, user)
    assert status == 200
    return body['resource']['keys']['one_host']


def test_template_member_extra_is_null_unless_shown(
        standin: K2hr3StandIn) -> None:
    """F3: in the template's member variables a custom extra is null;
    ``openstack-auto-v1`` is shown."""
    user = _scoped(standin)
    assert _member_variable(standin, user, 'trove-k2hdkc-v1')[
        'extra'] is None
    assert _member_variable(standin, user, 'openstack-auto-v1')[
        'extra'] == 'openstack-auto-v1'
