"""``/v1/user/tokens``: unscoped/scoped user tokens (dummyuserapi,
registered Keystone tokens, or tokens checked at a Keystone)."""

from __future__ import annotations

from tests.standins.k2hr3 import auth
from tests.standins.k2hr3 import keystone
from tests.standins.k2hr3.http_types import ApiError
from tests.standins.k2hr3.http_types import Reply
from tests.standins.k2hr3.http_types import Request
from tests.standins.k2hr3.http_types import no_content
from tests.standins.k2hr3.http_types import ok
from tests.standins.k2hr3.store import State
from tests.standins.k2hr3.store import dummy_tenants

NO_TENANT = 'POST body does not have tenant name(or user credentials)'
STORE_DOWN = ('could not get scoped user token for user=%s, tenant=%s by '
              'could not get user access token by could not add '
              'yrn:yahoo::::user:%s subkey under yrn:yahoo::::user key')


def _auth_args(req: Request) -> tuple[str | None, str | None]:
    """(username, tenant name) from the POST body or the PUT query."""
    if req.method == 'PUT':
        return req.arg('username') or None, req.arg('tenantname') or None
    body = req.json()
    authinfo = body.get('auth') if isinstance(body, dict) else None
    if not isinstance(authinfo, dict):
        authinfo = {}
    creds = authinfo.get('passwordCredentials')
    username = creds.get('username') if isinstance(creds, dict) else None
    tenant = authinfo.get('tenantName')
    return (username or None,
            tenant if isinstance(tenant, str) and tenant else None)


def _scope(state: State, user: str, tenant: str | None,
           tenants: list[dict], token: str | None,
           expire: float | None = None) -> Reply:
    if state.store_down:
        # K2HR3 writes the user into its store before it issues a token
        # (store outage capture O2).
        raise ApiError(404, STORE_DOWN % (user, tenant or '', user))
    if tenant is not None:
        match = [t for t in tenants if t['name'] == tenant]
        if not match:
            shown = 'null' if token is None else '"%s"' % token
            raise ApiError(404, (
                'could not get scoped user token for user=%s, tenant=%s by '
                'could not get scoped user token for user %s by some '
                'parameters are wrong : token=%s, tenant=null')
                % (user, tenant, user, shown))
        tenants = match
    entry = state.issue_user_token(user, tenant, tenants, expire)
    return ok(201, message='succeed', scoped=tenant is not None,
              token=entry.token)


def create(state: State, req: Request) -> Reply:
    """POST/PUT /v1/user/tokens."""
    kind, token = auth.token_header(req)
    username, tenant = _auth_args(req)
    if kind is None:
        if username is None:
            raise ApiError(400, auth.NO_HEADER)
        return _scope(state, username, tenant, dummy_tenants(), None)
    if kind == 'R':
        raise auth.not_existed(token)
    if token in state.keystone:
        user, tenants = state.keystone[token]
        return _scope(state, user, tenant, tenants, token)
    if state.keystone_url and not state.store_down and state.user_token(
            token) is None:
        checked = keystone.login(state.keystone_url, token, tenant)
        return _scope(state, checked.user, tenant, checked.tenants, token,
                      checked.expire)
    entry = auth.user(state, token)
    if tenant is None:
        raise ApiError(400, NO_TENANT)
    return _scope(state, entry.user, tenant, entry.tenants, token)


def _checked(state: State, req: Request):
    kind, token = auth.token_header(req)
    if kind is None:
        raise ApiError(400, auth.NO_HEADER)
    if kind == 'R':
        raise auth.not_existed(token)
    return auth.user(state, token)


def info(state: State, req: Request) -> Reply:
    """GET /v1/user/tokens."""
    entry = _checked(state, req)
    return ok(message='succeed', scoped=entry.tenant is not None,
              user=entry.user, tenants=[dict(t) for t in entry.tenants])


def check(state: State, req: Request) -> Reply:
    """HEAD /v1/user/tokens."""
    _checked(state, req)
    return no_content()
