"""``/v1/role/token``: issue, list and delete role tokens."""

from __future__ import annotations

import json
import time

from tests.standins.k2hr3 import auth
from tests.standins.k2hr3 import hosts as hostlib
from tests.standins.k2hr3 import roles
from tests.standins.k2hr3 import tokens
from tests.standins.k2hr3 import yrn
from tests.standins.k2hr3.http_types import ApiError
from tests.standins.k2hr3.http_types import Reply
from tests.standins.k2hr3.http_types import Request
from tests.standins.k2hr3.http_types import no_content
from tests.standins.k2hr3.http_types import ok
from tests.standins.k2hr3.store import State

PREFIX = '/v1/role/token/'
LIST_PREFIX = '/v1/role/token/list/'


def _target(state: State, req: Request, text: str,
            tenant: str | None) -> tuple[str, str]:
    try:
        return yrn.resolve(text, tenant, 'role')
    except ValueError as exc:
        raise ApiError(400, 'Request query does not have yrn full path to '
                            'role') from exc


def _own_target(state: State, req: Request, text: str,
                tenant: str) -> tuple[str, str]:
    """A role of the user token's own tenant: K2HR3 refuses a full YRN
    of another tenant before it looks at the role (400)."""
    target = _target(state, req, text, tenant)
    if target[0] != tenant:
        raise ApiError(400, 'GET request query has wrong tenant yrn full '
                            'path(tenant=%s) or not specify tenant.'
                       % target[0])
    return target


def _expire(req: Request) -> int:
    value = req.arg('expire')
    if value is None or value == '':
        return tokens.ROLE_TOKEN_LIFETIME
    try:
        seconds = int(value)
    except ValueError as exc:
        raise ApiError(400, 'expire(%s) parameter is wrong' % value) from exc
    if seconds < 0:
        raise ApiError(400, 'expire(%s) parameter is wrong' % value)
    return seconds or tokens.ROLE_TOKEN_NO_EXPIRY


def _issue(state: State, entry: tokens.RoleToken) -> Reply:
    state.role_tokens[entry.token] = entry
    role_yrn = yrn.make(entry.tenant, 'role', entry.role)
    return ok(token=entry.token,
              registerpath=tokens.new_registerpath(role_yrn, entry.token))


def issue(state: State, req: Request) -> Reply:
    """GET /v1/role/token/<path or yrn>[?expire=N]."""
    kind, token = auth.token_header(req)
    target = req.path[len(PREFIX):]
    now = time.time()
    if kind == 'U':
        user = auth.scoped_user(state, token)
        tenant, path = _own_target(state, req, target, user.tenant)
        if not state.tenant(tenant).roles.exists(path):
            raise ApiError(404, 'could not get role id(%s/id) value, or it '
                                'is wrong value("").'
                           % yrn.make(tenant, 'role', path))
        return _issue(state, tokens.RoleToken(
            tokens.new_token(), tenant, path, user.user, now,
            now + _expire(req)))
    if kind == 'R':
        return _reissue(state, req, auth.role(state, token), now)
    tenant, path = _target(state, req, target, None)
    port_value = hostlib.parse_port(req.arg('port'))
    found = roles.find_member(state.tenant(tenant), path, req.client_ip,
                              port_value, req.arg('cuk'))
    if found is None:
        raise ApiError(404, 'ip(%s) is not member of role(%s)'
                       % (req.client_ip, yrn.make(tenant, 'role', path)))
    holder, member = found
    return _issue(state, tokens.RoleToken(
        tokens.new_token(), tenant, path, None, now,
        now + tokens.ROLE_TOKEN_LIFETIME, ip=member['host'],
        port=member['port'], cuk=member['cuk'],
        member=(holder, hostlib.key(member))))


def _reissue(state: State, req: Request, old: tokens.RoleToken,
             now: float) -> Reply:
    if old.ip is None or old.ip != req.client_ip:
        raise ApiError(401, 'role token can not be re-issued')
    del state.role_tokens[old.token]
    return _issue(state, tokens.RoleToken(
        tokens.new_token(), old.tenant, old.role, old.user, now, old.expire,
        ip=old.ip, port=old.port, cuk=old.cuk, member=old.member))


def listing(state: State, req: Request) -> Reply:
    """GET /v1/role/token/list/<path>?expand=true|false."""
    user = auth.require_scoped_user(state, req)
    tenant, path = _own_target(state, req, req.path[len(LIST_PREFIX):],
                               user.tenant)
    if not state.tenant(tenant).roles.exists(path):
        # Second capture F4: a deleted (or never created) role is a 404.
        raise ApiError(404, 'role(%s) does not exist'
                       % json.dumps(yrn.make(tenant, 'role', path)))
    live = sorted(t for t, e in state.role_tokens.items()
                  if e.tenant == tenant and e.role == path
                  and state.role_token(t))
    if req.arg('expand') == 'false':
        return ok(tokens=live)
    details = {}
    for value in live:
        entry = state.role_tokens[value]
        details[value] = {
            'user': entry.user, 'hostname': None, 'ip': entry.ip,
            'port': entry.port, 'cuk': entry.cuk,
            'date': tokens.iso(entry.date), 'expire': tokens.iso(entry.expire),
            'registerpath': tokens.new_registerpath(
                yrn.make(tenant, 'role', path), value)}
    return ok(tokens=details)


def delete(state: State, req: Request) -> Reply:
    """DELETE /v1/role/token/<role token> (scoped user token).

    Second capture F2: a token that no longer exists (its role was
    deleted, it expired, it was revoked) answers 403 with an empty body.
    """
    user = auth.require_scoped_user(state, req)
    entry = state.role_tokens.get(req.path[len(PREFIX):])
    if (entry is None or entry.tenant != user.tenant
            or entry.expire < time.time()
            or not state.tenant(entry.tenant).roles.exists(entry.role)):
        raise ApiError(403, 'role token does not exist')
    del state.role_tokens[entry.token]
    return no_content()
