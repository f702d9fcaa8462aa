"""``/v1/resource``: create/update, read (user, role token, tokenless),
HEAD and DELETE, with the real messages and status codes."""

from __future__ import annotations

from typing import Any

from tests.standins.k2hr3 import auth
from tests.standins.k2hr3 import policies
from tests.standins.k2hr3 import references
from tests.standins.k2hr3 import resources
from tests.standins.k2hr3 import roles
from tests.standins.k2hr3 import yrn
from tests.standins.k2hr3.hosts import parse_port
from tests.standins.k2hr3.http_types import ApiError
from tests.standins.k2hr3.http_types import Reply
from tests.standins.k2hr3.http_types import Request
from tests.standins.k2hr3.http_types import as_list
from tests.standins.k2hr3.http_types import compact
from tests.standins.k2hr3.http_types import created
from tests.standins.k2hr3.http_types import json_arg
from tests.standins.k2hr3.http_types import no_content
from tests.standins.k2hr3.http_types import ok
from tests.standins.k2hr3.k2hr3template import TemplateError
from tests.standins.k2hr3.store import State

NO_YRN = 'Request query does not have yrn full path to resource'
NO_ROLE = 'GET request does not have role yrn in post data.'


def _fields(req: Request) -> tuple[Any, ...]:
    if req.method == 'PUT':
        return (req.arg('name'), req.arg('type'), req.arg('data'),
                json_arg(req.arg('keys')), json_arg(req.arg('alias')))
    body = req.json()
    res = body.get('resource') if isinstance(body, dict) else None
    if not isinstance(res, dict):
        raise ApiError(400, 'POST body does not have resource data')
    return (res.get('name'), res.get('type'), res.get('data'),
            res.get('keys'), res.get('alias'))


def create(state: State, req: Request) -> Reply:
    """POST/PUT /v1/resource (scoped user token)."""
    req.json()
    kind, token = auth.token_header(req)
    if kind != 'U':
        raise ApiError(400, NO_YRN)
    user = auth.scoped_user(state, token)
    name, kind_name, data, keys, alias = _fields(req)
    if not isinstance(name, str) or not name.strip('/'):
        raise ApiError(400, 'Default resource name is not specified or '
                            'wrong value : %s' % compact(name))
    kind_name = kind_name or 'string'
    if kind_name not in ('string', 'object'):
        raise ApiError(400, '%s resource:type field is wrong : %s'
                       % (req.method, compact(kind_name)))
    if kind_name == 'object' and req.method == 'PUT':
        data = json_arg(data)
    if kind_name == 'string' and data is not None and not isinstance(
            data, str):
        raise ApiError(400, '%s resource:data field is wrong : %s'
                       % (req.method, compact(data)))
    if keys == '':
        keys = {}
    if keys is not None and not isinstance(keys, dict):
        raise ApiError(400, '%s resource:keys field is wrong : %s'
                       % (req.method, compact(keys)))
    aliases = as_list(alias)
    try:
        tenant, path = yrn.resolve(name, user.tenant, 'resource')
    except ValueError as exc:
        raise ApiError(400, 'Default resource name is not specified or '
                            'wrong value : %s' % compact(name)) from exc
    if tenant != user.tenant:
        raise ApiError(400, 'resource(%s) is not in tenant(%s)'
                       % (name, user.tenant))
    resources.upsert(state, tenant, path, kind_name, data, keys, aliases)
    return created()


def _not_found(tenant: str, path: str) -> ApiError:
    return ApiError(404, 'Could not get resource data for resource yrn: '
                         '%s' % yrn.make(tenant, 'resource', path))


def _rendered(state: State, tenant: str, path: str) -> dict:
    try:
        result = resources.render(state, tenant, path)
    except TemplateError as exc:
        raw = resources.expand(state, tenant, path)['string']
        raise ApiError(404, 'Could not load resource for template engine: '
                            '%s' % compact(raw)) from exc
    if result is None:
        raise _not_found(tenant, path)
    return result


def read(state: State, req: Request) -> Reply:
    """GET/HEAD /v1/resource/<path or yrn>."""
    target = req.path[len('/v1/resource/'):]
    kind, token = auth.token_header(req)
    if kind == 'U':
        return _read_user(state, req, target, token)
    if kind == 'R':
        entry = auth.role(state, token)
        tenant, path = _full_yrn(target)
        return _read_role(state, req, tenant, path, entry.tenant,
                          entry.role)
    tenant, path = _full_yrn(target)
    role_arg = req.arg('role')
    if not role_arg:
        raise ApiError(400, NO_ROLE)
    parsed = yrn.parse(role_arg)
    if parsed is None or parsed[1] != 'role':
        raise ApiError(400, NO_ROLE)
    role_tenant, role_path = parsed[0], yrn.normalise_path(parsed[2])
    port = parse_port(req.arg('port'))
    if not roles.is_member(state.tenant(role_tenant), role_path,
                           req.client_ip, port, req.arg('cuk')):
        raise ApiError(404, 'ip(%s) is not member of role(%s) in tenant(%s)'
                       % (req.client_ip, role_path, role_tenant))
    return _read_role(state, req, tenant, path, role_tenant, role_path)


def _full_yrn(target: str) -> tuple[str, str]:
    parsed = yrn.parse(target)
    if parsed is None or parsed[1] != 'resource' or not parsed[2]:
        raise ApiError(400, NO_YRN)
    return parsed[0], yrn.normalise_path(parsed[2])


def _read_user(state: State, req: Request, target: str,
               token: str) -> Reply:
    user = auth.scoped_user(state, token)
    try:
        tenant, path = yrn.resolve(target, user.tenant, 'resource')
    except ValueError as exc:
        raise ApiError(400, NO_YRN) from exc
    if tenant != user.tenant:
        raise _not_found(tenant, path)
    if req.arg('expand') == 'false':
        node = state.tenant(tenant).resources.get(path)
        if node is None:
            raise _not_found(tenant, path)
        body = {'string': node['string'], 'object': node['object'],
                'keys': None if node['keys'] is None else dict(node['keys']),
                'expire': None,
                'aliases': list(node['aliases'])}
    else:
        result = _rendered(state, tenant, path)
        body = {'string': result['string'], 'object': result['object'],
                'keys': result['keys'], 'expire': None}
    return no_content() if req.method == 'HEAD' else ok(resource=body)


def _read_role(state: State, req: Request, tenant: str, path: str,
               role_tenant: str, role_path: str) -> Reply:
    res_yrn = yrn.make(tenant, 'resource', path)
    if role_tenant != tenant or not policies.allows(
            state.tenant(tenant), roles.merged_policies(
                state.tenant(tenant), role_path), res_yrn, yrn.ACTION_READ):
        raise ApiError(404, 'role(%s) in tenant(%s) does not allow to read '
                            'access to resource(%s).'
                       % (role_path, role_tenant, res_yrn))
    kind = req.arg('type') or 'string'
    keyname = req.arg('keyname')
    if kind == 'keys' and not keyname:
        raise ApiError(400, 'GET request type=keys, but keyname(%s) '
                            'parameter is empty.'
                       % ('undefined' if keyname is None else keyname))
    if kind not in ('string', 'object', 'keys'):
        raise ApiError(400, 'GET request type(%s) is wrong.' % kind)
    result = _rendered(state, tenant, path)
    if kind == 'keys':
        value = (result['keys'] or {}).get(keyname)
        label = 'keys[%s]' % keyname
    else:
        value, label = result[kind], kind
    if value is None:
        raise ApiError(404, 'resource(%s) by role(%s) in tenant(%s) does not '
                            'have value for type(%s) data.'
                       % (res_yrn, role_path, role_tenant, label))
    return no_content() if req.method == 'HEAD' else ok(resource=value)


def delete(state: State, req: Request) -> Reply:
    """DELETE /v1/resource/<path> (scoped user token)."""
    target = req.path[len('/v1/resource/'):]
    kind, token = auth.token_header(req)
    if kind != 'U':
        raise ApiError(403, 'only user-token deletes are supported by the '
                            'stand-in')
    user = auth.scoped_user(state, token)
    try:
        tenant, path = yrn.resolve(target, user.tenant, 'resource')
    except ValueError as exc:
        raise ApiError(400, NO_YRN) from exc
    if tenant != user.tenant:
        # K2HR3 2.0.3 (src/routes/resource.ts) checks the tenant first
        raise ApiError(400, 'DELETE request resource(%s) is under tenant(%s)'
                            ', it is not under tenant(%s).' % (
                                compact(path), compact(tenant),
                                compact(user.tenant)))
    store = state.tenant(tenant).resources
    part = req.arg('type')
    if part is None:
        if references.is_referenced(store.get(path)):
            raise ApiError(404, 'could not remove resource(%s) with type=('
                                'null), keynames=(null), aliases=(null) for '
                                'user=%s, tenant=%s' % (
                                    compact(path), compact(user.user),
                                    compact(tenant)), body_on_delete=True)
        store.delete(path)
        return no_content()
    node = store.get(path)
    if node is None:
        return no_content()
    node = dict(node, keys=None if node['keys'] is None
                else dict(node['keys']))
    if part in ('anytype', 'string'):
        node['string'] = ''
    if part in ('anytype', 'object'):
        node['object'] = None
    if part == 'keys' and node['keys'] is not None:
        for name in as_list(json_arg(req.arg('keynames'))) or []:
            node['keys'].pop(name, None)
    if part == 'aliases':
        gone = as_list(json_arg(req.arg('aliases'))) or []
        node['aliases'] = [a for a in node['aliases'] if a not in gone]
    store.put(path, node)
    return no_content()
