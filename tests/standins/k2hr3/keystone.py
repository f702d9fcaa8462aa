"""Keystone tokens checked against a Keystone, as the real K2HR3 does.

The real K2HR3 API with its OpenStack Keystone v3 back end
(``keystone.type = openstackapiv3``) turns ``U=<keystone token>`` into a
K2HR3 token by asking Keystone, never by trusting the string: a token
login (``POST /v3/auth/tokens``, method ``token``) proves the token and
names the user; ``GET /v3/users/<id>/projects`` with that new token lists
the tenants (name and id lower-cased, display = the project name); a
scoped request logs in once more, scoped to the project's id. Any
Keystone refusal is a failed login (404). The K2HR3 token lives no
longer than the Keystone token. (doc/k2hr3-layout.md §5 describes the
tenant naming the product relies on.)
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from typing import Any
import urllib.error
import urllib.request

from tests.standins.k2hr3.http_types import ApiError

TIMEOUT = 10


@dataclasses.dataclass
class Login:
    user: str
    tenants: list[dict]
    expire: float


def _call(url: str, method: str, body: Any = None,
          token: str | None = None) -> tuple[int, dict[str, str], Any]:
    headers = {'Content-Type': 'application/json'}
    if token is not None:
        headers['X-Auth-Token'] = token
    req = urllib.request.Request(  # noqa: S310 - the test's own Keystone
        url, method=method, headers=headers,
        data=None if body is None else json.dumps(body).encode())
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:  # noqa: S310
            return resp.status, dict(resp.headers), json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), None
    except (OSError, ValueError) as exc:
        raise ApiError(404, 'could not get unscoped token by %s'
                       % type(exc).__name__) from None


def _token_login(base: str, token: str,
                 project_id: str | None = None) -> tuple[str, dict]:
    auth: dict[str, Any] = {'identity': {'methods': ['token'],
                                         'token': {'id': token}}}
    if project_id is not None:
        auth['scope'] = {'project': {'id': project_id}}
    status, headers, body = _call(base + '/auth/tokens', 'POST',
                                  {'auth': auth})
    subject = {k.lower(): v for k, v in headers.items()}.get(
        'x-subject-token')
    what = 'scoped' if project_id else 'unscoped'
    if status >= 300 or not subject or not isinstance(body, dict):
        raise ApiError(404, 'could not get %s token by status=%d'
                       % (what, status))
    return subject, body['token']


def _expire(token: dict) -> float:
    stamp = token['expires_at'].replace('Z', '+00:00')
    return datetime.datetime.fromisoformat(stamp).timestamp()


def login(base: str, keystone_token: str, tenant: str | None) -> Login:
    """Check ``keystone_token`` at Keystone (``base`` = its /v3 URL) and
    list the user's tenants; with ``tenant`` (a K2HR3 tenant name) also
    prove that Keystone scopes the user to that project."""
    base = base.rstrip('/')
    unscoped, body = _token_login(base, keystone_token)
    user = body['user']
    status, _, listed = _call(base + '/users/%s/projects' % user['id'],
                              'GET', token=unscoped)
    if status >= 300 or not isinstance(listed, dict) or not listed.get(
            'projects'):
        raise ApiError(404, 'failed to get project(tenant) list by '
                            'unscoped token.')
    tenants = [{'name': p['name'].lower(), 'id': p['id'].lower(),
                'description': p.get('description') or '',
                'display': p['name']} for p in listed['projects']]
    expire = _expire(body)
    if tenant is not None:
        match = [t for t in tenants if t['name'] == tenant]
        if match:
            _, scoped = _token_login(base, unscoped, match[0]['id'])
            expire = min(expire, _expire(scoped))
    return Login(user['name'].lower(), tenants, expire)
