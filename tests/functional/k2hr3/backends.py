"""A K2HR3 API to test against: the stand-in, or a real one from the env.

``K2HDKC_TEST_K2HR3_URL`` (e.g. ``http://127.0.0.1:28080``) selects a real
K2HR3 API running with ``keystone.type = dummyuserapi``;
``K2HDKC_TEST_K2HR3_USER`` (default ``dkcadmin``) and
``K2HDKC_TEST_K2HR3_TENANT`` (default ``tenant0``) name the login.  Both
kinds log in the same way, with the dummyuserapi credentials exchange of
the first capture (seq 8: ``POST /v1/user/tokens`` with a user name, any
password and the tenant), and every check here reads the K2HR3 API only.
"""

from __future__ import annotations

from collections.abc import Iterator
import dataclasses
import os
from typing import Any

import pytest
import requests

from tests.functional.k2hr3.helpers import make_client
from tests.standins.k2hr3 import K2hr3StandIn
from trove_k2hdkc.k2hr3 import K2hr3Client
from trove_k2hdkc.k2hr3 import UserToken

URL_ENV = 'K2HDKC_TEST_K2HR3_URL'
USER_ENV = 'K2HDKC_TEST_K2HR3_USER'
TENANT_ENV = 'K2HDKC_TEST_K2HR3_TENANT'
KINDS = ('role', 'resource', 'policy')


@dataclasses.dataclass
class Backend:
    """A logged-in K2HR3 API; ``standin`` is None for a real one."""

    url: str
    client: K2hr3Client
    token: UserToken
    standin: K2hr3StandIn | None

    def get(self, path: str, **params: str) -> Any:
        """A user-token GET the plugin's client has no call for."""
        reply = requests.get(self.url + path, params=params, timeout=10,
                             headers={'x-auth-token': 'U=' + self.token.token})
        reply.raise_for_status()
        return reply.json()

    def objects(self, name: str) -> dict[str, list[str]]:
        """Paths of every role, resource and policy at or under ``name``,
        from ``/v1/list/<kind>?expand=true``."""
        found: dict[str, list[str]] = {}
        for kind in KINDS:
            tree = self.get('/v1/list/' + kind, expand='true')['children']
            found[kind] = sorted(p for p in _paths(tree, '')
                                 if p == name or p.startswith(name + '/'))
        return found

    def has_none(self, name: str) -> bool:
        return not any(self.objects(name).values())


def _paths(children: list[dict], prefix: str) -> Iterator[str]:
    for child in children or ():
        path = prefix + child['name']
        yield path
        yield from _paths(child.get('children') or [], path + '/')


def dummyuser_login(url: str, user: str, tenant: str) -> str:
    """Scoped user token by user name (dummyuserapi ignores the password)."""
    reply = requests.post(url + '/v1/user/tokens', timeout=10, json={
        'auth': {'tenantName': tenant, 'passwordCredentials': {
            'username': user, 'password': 'unused-by-dummyuserapi'}}})
    reply.raise_for_status()
    return reply.json()['token']


def _open(url: str, standin: K2hr3StandIn | None) -> Backend:
    tenant = os.environ.get(TENANT_ENV, 'tenant0')
    user = os.environ.get(USER_ENV, 'dkcadmin')
    token = UserToken(token=dummyuser_login(url, user, tenant),
                      tenant=tenant)
    client = make_client(None, base_url=url)
    return Backend(url=url, client=client, token=token, standin=standin)


@pytest.fixture(params=['standin', 'real'])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """Each test once against the stand-in and once against the real
    K2HR3 named by ``K2HDKC_TEST_K2HR3_URL`` (skipped without it)."""
    if request.param == 'real':
        url = os.environ.get(URL_ENV)
        if not url:
            pytest.skip('no real K2HR3: set %s=http://HOST:PORT (and '
                        'optionally %s, %s) to run against one'
                        % (URL_ENV, USER_ENV, TENANT_ENV))
        made = _open(url.rstrip('/'), None)
    else:
        standin = request.getfixturevalue('k2hr3_standin')
        made = _open(standin.url, standin)
    try:
        yield made
    finally:
        made.client.close()
