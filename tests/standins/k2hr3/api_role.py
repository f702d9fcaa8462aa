"""``/v1/role`` and ``/v1/role/<path>``: roles and their members."""

from __future__ import annotations

from tests.standins.k2hr3 import auth
from tests.standins.k2hr3 import hosts as hostlib
from tests.standins.k2hr3 import roles
from tests.standins.k2hr3 import yrn
from tests.standins.k2hr3.http_types import ApiError
from tests.standins.k2hr3.http_types import Reply
from tests.standins.k2hr3.http_types import Request
from tests.standins.k2hr3.http_types import as_list
from tests.standins.k2hr3.http_types import compact
from tests.standins.k2hr3.http_types import created
from tests.standins.k2hr3.http_types import json_arg
from tests.standins.k2hr3.http_types import no_content
from tests.standins.k2hr3.http_types import ok
from tests.standins.k2hr3.store import State

NO_YRN = 'Request query does not have yrn full path to role'


def create(state: State, req: Request) -> Reply:
    """POST/PUT /v1/role (scoped user token)."""
    req.json()
    user = auth.require_scoped_user(state, req)
    if req.method == 'PUT':
        name = req.arg('name')
        policies = json_arg(req.arg('policies'))
        alias = json_arg(req.arg('alias'))
    else:
        body = req.json()
        role = body.get('role') if isinstance(body, dict) else None
        if not isinstance(role, dict):
            raise ApiError(400, 'POST body does not have role data')
        name, policies, alias = (role.get('name'), role.get('policies'),
                                 role.get('alias'))
    try:
        tenant, path = yrn.resolve(name if isinstance(name, str) else '',
                                   user.tenant, 'role')
    except ValueError as exc:
        raise ApiError(400, 'Default role name is not specified or wrong '
                            'value : %s' % compact(name)) from exc
    if tenant != user.tenant:
        raise ApiError(400, 'role(%s) is not in tenant(%s)'
                       % (name, user.tenant))
    roles.upsert(state.tenant(tenant), path, as_list(policies), as_list(alias))
    return created()


def _user_target(state: State, req: Request, token: str) -> tuple[str, str]:
    user = auth.scoped_user(state, token)
    try:
        tenant, path = yrn.resolve(req.path[len('/v1/role/'):], user.tenant,
                                   'role')
    except ValueError as exc:
        raise ApiError(400, NO_YRN) from exc
    if tenant != user.tenant:
        if req.method == 'GET':
            # K2HR3's GET router checks the YRN's tenant first
            raise ApiError(400, 'GET request query has wrong tenant yrn '
                                'full path(tenant=%s) or not specify '
                                'tenant.' % tenant)
        raise ApiError(403, 'role is not in tenant(%s)' % user.tenant)
    return tenant, path


def _yrn_target(req: Request) -> tuple[str, str]:
    parsed = yrn.parse(req.path[len('/v1/role/'):])
    if parsed is None or parsed[1] != 'role' or not parsed[2]:
        raise ApiError(400, NO_YRN)
    return parsed[0], yrn.normalise_path(parsed[2])


def get(state: State, req: Request) -> Reply:
    """GET /v1/role/<path>: expand=true gives only merged policies."""
    kind, token = auth.token_header(req)
    if kind != 'U':
        raise ApiError(400, auth.NO_HEADER) if kind is None else \
            auth.not_existed(token)
    tenant, path = _user_target(state, req, token)
    data = state.tenant(tenant)
    if req.arg('expand') != 'false':
        return ok(role={'policies': roles.merged_policies(data, path)})
    role = data.roles.get(path) or roles.new_role()
    return ok(role={
        'policies': list(role['policies']),
        'aliases': list(role['aliases']),
        'hosts': {
            'hostnames': [hostlib.host_string(h) for h in
                          roles.sorted_hosts(role['hostnames'])],
            'ips': [hostlib.host_string(h) for h in
                    roles.sorted_hosts(role['ips'])]}})


def head(state: State, req: Request) -> Reply:
    """HEAD /v1/role/<path>: user token, role token or tokenless member."""
    kind, token = auth.token_header(req)
    if kind == 'U':
        tenant, path = _user_target(state, req, token)
        if state.tenant(tenant).roles.get(path) is None:
            raise ApiError(404, 'role does not exist')
        return no_content()
    if kind == 'R':
        auth.role(state, token)
        _yrn_target(req)
        return no_content()
    tenant, path = _yrn_target(req)
    port = hostlib.parse_port(req.arg('port'))
    if not roles.is_member(state.tenant(tenant), path, req.client_ip, port,
                           req.arg('cuk')):
        raise ApiError(403, 'not a member')
    return no_content()


def _host_specs(req: Request) -> tuple[list[dict], bool, bool]:
    """Raw host fields from the PUT query or the POST body."""
    if req.method == 'PUT':
        spec = {name: req.arg(name) for name in
                ('host', 'port', 'cuk', 'extra', 'tag', 'inboundip',
                 'outboundip')}
        return [spec], False, False
    body = req.json()
    if not isinstance(body, dict) or not isinstance(
            body.get('host'), (dict, list)):
        raise ApiError(400, 'POST body does not have host data')
    specs = body['host'] if isinstance(body['host'], list) else [body['host']]
    if not all(isinstance(s, dict) for s in specs):
        raise ApiError(400, 'POST body has wrong host data')
    return (specs, bool(body.get('clear_hostname')),
            bool(body.get('clear_ips')))


def _make_host(req: Request, spec: dict, source_ip: str | None) -> dict:
    for field, label in (('inboundip', 'inbound'), ('outboundip', 'outbound')):
        value = spec.get(field)
        if value not in (None, '') and not hostlib.is_ip(str(value)):
            raise ApiError(400, '%s request has %s ip address which is not '
                                'ignore ip address string: %s'
                           % (req.method, label, compact(value)))
    host = source_ip or spec.get('host') or req.client_ip
    port = hostlib.parse_port(spec.get('port')) or 0
    return hostlib.make(str(host).lower(), port, spec.get('cuk'),
                        spec.get('extra'), spec.get('tag'),
                        spec.get('inboundip'), spec.get('outboundip'))


def add_hosts(state: State, req: Request) -> Reply:
    """PUT/POST /v1/role/<path>: add members (user or role token)."""
    req.json()
    kind, token = auth.token_header(req)
    if kind is None:
        raise ApiError(400, auth.NO_HEADER)
    if kind == 'U':
        tenant, path = _user_target(state, req, token)
        source = None
    else:
        auth.role(state, token)
        tenant, path = _yrn_target(req)
        source = req.client_ip
    specs, clear_names, clear_ips = _host_specs(req)
    new_hosts = [_make_host(req, spec, source) for spec in specs]
    data = state.tenant(tenant)
    roles.clear_hosts(data, path, clear_names, clear_ips)
    for host in new_hosts:
        roles.add_host(data, path, host)
    return created()


def delete(state: State, req: Request) -> Reply:
    """DELETE /v1/role/<path>: a role, members, or (R=) a role token."""
    kind, token = auth.token_header(req)
    port, cuk = hostlib.parse_port(req.arg('port')), req.arg('cuk')
    if kind == 'U':
        tenant, path = _user_target(state, req, token)
        data = state.tenant(tenant)
        if not any(req.arg(n) is not None for n in ('host', 'port', 'cuk')):
            data.roles.delete(path)
            for entry in list(state.role_tokens.values()):
                if entry.tenant == tenant and entry.role == path:
                    del state.role_tokens[entry.token]
            return no_content()
        names = as_list(json_arg(req.arg('host'))) or [req.client_ip]
        for name in names:
            roles.delete_hosts(data, path, str(name).lower(), port, cuk)
        return no_content()
    if kind == 'R':
        entry = auth.role(state, token)
        tenant, path = _yrn_target(req)
        if not roles.is_member(state.tenant(tenant), path, req.client_ip,
                               port, cuk):
            raise ApiError(403, 'not a member')
        del state.role_tokens[entry.token]
        return no_content()
    tenant, path = _yrn_target(req)
    if not roles.delete_hosts(state.tenant(tenant), path, req.client_ip,
                              port, cuk):
        raise ApiError(403, 'not a member')
    return no_content()
