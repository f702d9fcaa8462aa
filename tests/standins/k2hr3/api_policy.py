"""``/v1/policy``: flat policies (create/update, GET, HEAD check,
DELETE)."""

from __future__ import annotations

from typing import Any

from tests.standins.k2hr3 import auth
from tests.standins.k2hr3 import policies
from tests.standins.k2hr3 import references
from tests.standins.k2hr3 import yrn
from tests.standins.k2hr3.http_types import ApiError
from tests.standins.k2hr3.http_types import Reply
from tests.standins.k2hr3.http_types import Request
from tests.standins.k2hr3.http_types import compact
from tests.standins.k2hr3.http_types import created
from tests.standins.k2hr3.http_types import json_arg
from tests.standins.k2hr3.http_types import no_content
from tests.standins.k2hr3.http_types import ok
from tests.standins.k2hr3.store import State

PREFIX = '/v1/policy/'


def _strings(value: Any, field: str) -> list | None:
    if value is None:
        return None
    if value == '':
        return []
    value = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) for v in value):
        raise ApiError(400, 'policy:%s field is wrong : %s'
                       % (field, compact(value)))
    return list(value)


def create(state: State, req: Request) -> Reply:
    """POST/PUT /v1/policy (scoped user token)."""
    req.json()
    user = auth.require_scoped_user(state, req)
    if req.method == 'PUT':
        fields = {n: req.arg(n) for n in ('name', 'effect')}
        for name in ('action', 'resource', 'alias'):
            fields[name] = json_arg(req.arg(name))
    else:
        body = req.json()
        fields = body.get('policy') if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            raise ApiError(400, 'POST body does not have policy data')
    name = fields.get('name')
    try:
        tenant, path = yrn.resolve(name if isinstance(name, str) else '',
                                   user.tenant, 'policy')
    except ValueError as exc:
        raise ApiError(400, 'policy:name field is wrong : %s'
                       % compact(name)) from exc
    if tenant != user.tenant:
        raise ApiError(400, 'policy(%s) is not in tenant(%s)'
                       % (name, user.tenant))
    data = state.tenant(tenant)
    old = data.policies.get(path, {'effect': 'deny', 'action': [],
                                   'resource': [], 'alias': []})
    effect = fields.get('effect')
    if effect is not None and effect not in ('allow', 'deny'):
        raise ApiError(400, 'policy:effect field is wrong : %s'
                       % compact(effect))
    new = {'effect': effect or old['effect']}
    for field in ('action', 'resource', 'alias'):
        value = _strings(fields.get(field), field)
        new[field] = old[field] if value is None else value
    references.policy_listed(state, old['resource'], new['resource'])
    data.policies[path] = new
    return created()


def _target(state: State, req: Request, token: str,
            other_tenant: str | None = None) -> tuple[str, str]:
    """(tenant, path) named by the request path; a full YRN of another
    tenant than the token's is the 400 ``other_tenant`` (``%(yrn)s`` and
    ``%(own)s``: the two tenants) where given."""
    user = auth.scoped_user(state, token)
    try:
        tenant, path = yrn.resolve(req.path[len(PREFIX):], user.tenant,
                                   'policy')
    except ValueError as exc:
        raise ApiError(400, 'policy path is wrong') from exc
    if other_tenant is not None and tenant != user.tenant:
        raise ApiError(400, other_tenant % {'yrn': tenant,
                                            'own': user.tenant})
    return tenant, path


# K2HR3 2.0.3 (src/routes/policy.ts): GET compares a full YRN's tenant
# with the token's; DELETE only strips the token's own tenant's prefix,
# so a YRN of another tenant is left over and refused as one.
GET_OTHER_TENANT = ('Request query has wrong yrn full path(tenant=%(yrn)s)'
                    ' to policy(tenant=%(own)s)')
DELETE_OTHER_TENANT = 'DELETE request url has wrong yrn full path to policy'


def get(state: State, req: Request) -> Reply:
    """GET /v1/policy/<path>; a missing policy is a 400 (as captured)."""
    kind, token = auth.token_header(req)
    if kind != 'U':
        raise ApiError(400, auth.NO_HEADER) if kind is None else \
            auth.not_existed(token)
    tenant, path = _target(state, req, token, GET_OTHER_TENANT)
    data = state.tenant(tenant)
    policy = data.policies.get(path)
    policy_yrn = yrn.make(tenant, 'policy', path)
    if policy is None:
        raise ApiError(400, '%s is not found in %s subkey list.'
                       % (policy_yrn, yrn.make(tenant, 'policy', '')[:-1]))
    return ok(policy={
        'name': path, 'effect': policy['effect'],
        'action': list(policy['action']),
        'resource': list(policy['resource']), 'condition': [],
        'reference': 0,   # second capture F4: 0 with roles naming it
        'alias': list(policy['alias'])})


def head(state: State, req: Request) -> Reply:
    """HEAD /v1/policy/<yrn>?tenant&resource&action: tokenless check."""
    kind, token = auth.token_header(req)
    if kind == 'U':
        tenant, path = _target(state, req, token)
        if path not in state.tenant(tenant).policies:
            raise ApiError(404, 'policy does not exist')
        return no_content()
    parsed = yrn.parse(req.path[len(PREFIX):])
    if parsed is None or parsed[1] != 'policy':
        raise ApiError(400, 'policy yrn is wrong')
    tenant = req.arg('tenant') or parsed[0]
    resource, action = req.arg('resource'), req.arg('action')
    if not resource or not action or tenant != parsed[0]:
        raise ApiError(400, 'parameters are wrong')
    if not policies.allows(state.tenant(tenant), [req.path[len(PREFIX):]],
                           resource, action):
        raise ApiError(403, 'not allowed')
    return no_content()


def delete(state: State, req: Request) -> Reply:
    """DELETE /v1/policy/<path>; missing is 204."""
    kind, token = auth.token_header(req)
    if kind != 'U':
        raise ApiError(400, auth.NO_HEADER) if kind is None else \
            auth.not_existed(token)
    tenant, path = _target(state, req, token, DELETE_OTHER_TENANT)
    gone = state.tenant(tenant).policies.pop(path, None)
    if gone is not None:
        references.policy_listed(state, gone['resource'], [])
    return no_content()
