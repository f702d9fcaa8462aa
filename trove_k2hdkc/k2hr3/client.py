"""The K2HR3 REST client used by the control plane and the guest agent.

Written instead of PyPI ``k2hr3client`` (its DELETE sends HEAD, it drops
``expire`` and hides HTTP errors). Shapes follow the captures of K2HR3 API
2.0.3 in ``tests/data/reference/k2hr3`` where they differ from the docs.
Arguments that reach a URL are validated by ``models``; tokens are passed in
per call and registered with the transport's redactor so they never appear
in logs or exception text.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from trove_k2hdkc.k2hr3 import errors
from trove_k2hdkc.k2hr3 import models
from trove_k2hdkc.k2hr3.transport import Retry
from trove_k2hdkc.k2hr3.transport import Transport
from trove_k2hdkc.k2hr3.transport import quote_path

# Statuses that mean "already gone" on delete (the 2.0.3 server answers
# 204 for missing objects; older ones and proxies may say 404).
_GONE = frozenset({404})

# A login (POST /v1/user/tokens) re-sent after a 5xx or a lost reply may
# mint a second user token: nothing refers to it and it expires (24 h, or
# with the Keystone token), so a login is retried like a read, not held
# back like a role-token issue (transport module docstring).
_LOGIN_RETRY = Retry.IDEMPOTENT


def _u(token: str | models.UserToken) -> str:
    raw = token.token if isinstance(token, models.UserToken) else token
    if not raw:
        raise errors.K2hr3ValueError('a user token is required')
    return 'U=' + raw


def _r(token: str | models.RoleToken) -> str:
    raw = token.token if isinstance(token, models.RoleToken) else token
    if not raw:
        raise errors.K2hr3ValueError('a role token is required')
    return 'R=' + raw


def _path_of(name: str | models.Yrn) -> str:
    if isinstance(name, models.Yrn):
        return quote_path(str(name))
    return quote_path(models.check_name(name))


def _body(reply_body: Any, field: str) -> Any:
    if not isinstance(reply_body, dict) or field not in reply_body:
        raise errors.K2hr3ProtocolError('K2HR3 reply has no %r' % field)
    return reply_body[field]


UserTokenArg = str | models.UserToken
RoleTokenArg = str | models.RoleToken


class K2hr3Client:
    """One client per K2HR3 endpoint; thread-safe as far as requests is."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def close(self) -> None:
        self._t.close()

    def __enter__(self) -> K2hr3Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return '<K2hr3Client %r>' % self._t

    def _secret(self, *values: str | None) -> None:
        self._t.redactor.add(*values)

    # -- user tokens -----------------------------------------------------

    def scoped_token_from_keystone(self, keystone_token: str,
                                   tenant: str) -> models.UserToken:
        """Keystone token -> unscoped K2HR3 token -> token scoped to
        ``tenant`` (the K2HR3 tenant name = lower-cased project name)."""
        models.check_tenant(tenant)
        unscoped = self.unscoped_token_from_keystone(keystone_token)
        return self.scoped_token_from_unscoped(unscoped, tenant)

    def unscoped_token_from_keystone(self, keystone_token: str) -> str:
        """Exchange a Keystone token for an unscoped K2HR3 token (which
        ``token_info`` shows with every tenant of the user)."""
        self._secret(keystone_token)
        reply = self._t.request('POST', '/v1/user/tokens',
                                token='U=' + keystone_token, body={},
                                retry=_LOGIN_RETRY)
        unscoped = _body(reply.body, 'token')
        self._secret(unscoped)
        return unscoped

    def scoped_token_from_unscoped(self, unscoped: str,
                                   tenant: str) -> models.UserToken:
        """Scope an unscoped K2HR3 user token to ``tenant``."""
        models.check_tenant(tenant)
        self._secret(unscoped)
        reply = self._t.request('POST', '/v1/user/tokens',
                                token='U=' + unscoped,
                                body={'auth': {'tenantName': tenant}},
                                retry=_LOGIN_RETRY)
        scoped = _body(reply.body, 'token')
        self._secret(scoped)
        if reply.body.get('scoped') is False:
            raise errors.K2hr3ProtocolError('K2HR3 returned an unscoped '
                                            'token for a tenant request')
        return models.UserToken(token=scoped, tenant=tenant)

    def token_info(self, token: UserTokenArg) -> dict[str, Any]:
        """``{"user", "scoped", "tenants": [{"name", ...}]}``."""
        reply = self._t.request('GET', '/v1/user/tokens', token=_u(token))
        return {'user': reply.body.get('user'),
                'scoped': reply.body.get('scoped'),
                'tenants': list(reply.body.get('tenants') or [])}

    def list_names(self, token: UserTokenArg, kind: str) -> list[str]:
        """Top-level names of the tenant's ``kind`` objects (resource,
        role or policy)."""
        if kind not in ('resource', 'role', 'policy'):
            raise errors.K2hr3ValueError('kind must be resource, role or '
                                         'policy')
        reply = self._t.request('GET', '/v1/list/' + kind, token=_u(token),
                                params={'expand': 'false'})
        children = _body(reply.body, 'children') or []
        return [c['name'] for c in children
                if isinstance(c, dict) and isinstance(c.get('name'), str)]

    # -- resources -------------------------------------------------------

    def put_resource(self, token: UserTokenArg, name: str, *,
                     data: str | None = None, data_type: str = 'string',
                     keys: Mapping[str, Any] | None = None,
                     alias: Iterable[str] | None = None) -> None:
        """Create or update (upsert; None leaves a field unchanged)."""
        if data_type not in ('string', 'object'):
            raise errors.K2hr3ValueError('resource type must be string or '
                                         'object')
        resource: dict[str, Any] = {'name': models.check_name(name),
                                    'type': data_type}
        if data is not None:
            resource['data'] = data
        if keys is not None:
            resource['keys'] = dict(keys)
        if alias is not None:
            resource['alias'] = [str(a) for a in alias]
        self._t.request('POST', '/v1/resource', token=_u(token),
                        body={'resource': resource})

    def get_resource(self, token: UserTokenArg, name: str | models.Yrn, *,
                     expand: bool = False) -> models.Resource:
        """Raw (``expand=False``) or merged and rendered (``True``)."""
        reply = self._t.request(
            'GET', '/v1/resource/' + _path_of(name), token=_u(token),
            params={'expand': 'true' if expand else 'false'})
        res = _body(reply.body, 'resource')
        if not isinstance(res, dict):
            raise errors.K2hr3ProtocolError('resource is not an object')
        return models.Resource(string=res.get('string'),
                               object=res.get('object'),
                               keys=dict(res.get('keys') or {}),
                               expire=res.get('expire'),
                               aliases=tuple(res.get('aliases') or ()))

    def delete_resource(self, token: UserTokenArg, name: str) -> None:
        self._t.request('DELETE', '/v1/resource/' + _path_of(name),
                        token=_u(token), ok_statuses=_GONE)

    def read_resource_by_role(self, role_token: RoleTokenArg,
                              resource: models.Yrn) -> str:
        """What a guest does: the rendered string of its resource."""
        value = self._read_by_role(role_token, resource, {})
        if not isinstance(value, str):
            raise errors.K2hr3ProtocolError('resource is not a string')
        return value

    def read_resource_key_by_role(self, role_token: RoleTokenArg,
                                  resource: models.Yrn, keyname: str) -> Any:
        """One key (inherited ones too); numbers stay numbers."""
        if not keyname or not isinstance(keyname, str):
            raise errors.K2hr3ValueError('keyname is required')
        return self._read_by_role(role_token, resource,
                                  {'type': 'keys', 'keyname': keyname})

    def _read_by_role(self, role_token: RoleTokenArg, resource: models.Yrn,
                      params: dict[str, str]) -> Any:
        if not isinstance(resource, models.Yrn):
            raise errors.K2hr3ValueError('a full resource YRN is required')
        reply = self._t.request('GET', '/v1/resource/' + _path_of(resource),
                                token=_r(role_token), params=params or None)
        return _body(reply.body, 'resource')

    # -- policies --------------------------------------------------------

    def put_policy(self, token: UserTokenArg, name: str,
                   resources: Iterable[models.Yrn | str], *,
                   effect: str = 'allow',
                   actions: Iterable[str] = (models.READ_ACTION,),
                   alias: Iterable[str] = ()) -> None:
        if effect not in ('allow', 'deny'):
            raise errors.K2hr3ValueError('effect must be allow or deny')
        body = {'policy': {'name': models.check_name(name), 'effect': effect,
                           'action': list(actions),
                           'resource': [str(r) for r in resources],
                           'condition': None,
                           'alias': [str(a) for a in alias]}}
        self._t.request('POST', '/v1/policy', token=_u(token), body=body)

    def get_policy(self, token: UserTokenArg, name: str) -> models.Policy:
        reply = self._t.request('GET', '/v1/policy/' + _path_of(name),
                                token=_u(token))
        pol = _body(reply.body, 'policy')
        return models.Policy(name=pol.get('name'), effect=pol.get('effect'),
                             action=tuple(pol.get('action') or ()),
                             resource=tuple(pol.get('resource') or ()),
                             alias=tuple(pol.get('alias') or ()))

    def delete_policy(self, token: UserTokenArg, name: str) -> None:
        self._t.request('DELETE', '/v1/policy/' + _path_of(name),
                        token=_u(token), ok_statuses=_GONE)

    # -- roles -----------------------------------------------------------

    def put_role(self, token: UserTokenArg, name: str, *,
                 policies: Iterable[models.Yrn | str] = (),
                 alias: Iterable[str] = ()) -> None:
        body = {'role': {'name': models.check_name(name),
                         'policies': [str(p) for p in policies],
                         'alias': [str(a) for a in alias]}}
        self._t.request('POST', '/v1/role', token=_u(token), body=body)

    def get_role(self, token: UserTokenArg,
                 name: str | models.Yrn) -> models.RoleInfo:
        """Role with its own hosts (``expand=false``: 2.0.3 omits hosts
        when expanding). A missing role reads as empty (K2HR3 says 200)."""
        reply = self._t.request('GET', '/v1/role/' + _path_of(name),
                                token=_u(token), params={'expand': 'false'})
        role = _body(reply.body, 'role')
        hosts = role.get('hosts') or {}
        entries = list(hosts.get('hostnames') or ()) + list(
            hosts.get('ips') or ())
        return models.RoleInfo(
            policies=tuple(role.get('policies') or ()),
            aliases=tuple(role.get('aliases') or ()),
            hosts=tuple(models.RoleHost.parse(e) for e in entries))

    def delete_role(self, token: UserTokenArg, name: str) -> None:
        self._t.request('DELETE', '/v1/role/' + _path_of(name),
                        token=_u(token), ok_statuses=_GONE)

    # -- role members ----------------------------------------------------

    def add_role_host(self, token: UserTokenArg, role: str,
                      host: models.RoleHost) -> None:
        """Register any address as a member (PUT: an upsert)."""
        self._t.request('PUT', '/v1/role/' + _path_of(role),
                        token=_u(token), params=_host_query(host))

    def remove_role_host(self, token: UserTokenArg, role: str, host: str,
                         port: int = 0, cuk: str | None = None) -> None:
        # Values come from K2HR3's own host list on cleanup, so they are
        # only checked to be plain tokens; requests URL-encodes them.
        params = {'host': models.check_query_value(host, 'host'),
                  'port': str(models.check_port(port))}
        if cuk:
            params['cuk'] = models.check_query_value(cuk, 'cuk')
        self._t.request('DELETE', '/v1/role/' + _path_of(role),
                        token=_u(token), params=params, ok_statuses=_GONE)

    def add_role_host_by_role_token(
            self, role_token: RoleTokenArg, role: models.Yrn, *,
            port: int = 0, cuk: str | None = None, extra: str | None = None,
            tag: str | None = None, inboundip: str | None = None,
            outboundip: str | None = None) -> None:
        """Self-registration: K2HR3 adds the request's source address."""
        params = _member_query(port, cuk, extra, tag, inboundip, outboundip)
        self._t.request('PUT', '/v1/role/' + _yrn_path(role, 'role'),
                        token=_r(role_token), params=params)

    def remove_role_host_by_role_token(
            self, role_token: RoleTokenArg, role: models.Yrn, *,
            port: int = 0, cuk: str | None = None) -> None:
        """DELETE with ``R=``; K2HR3 identifies the member by source IP."""
        params = _member_query(port, cuk, None, None, None, None)
        self._t.request('DELETE', '/v1/role/' + _yrn_path(role, 'role'),
                        token=_r(role_token), params=params,
                        ok_statuses=_GONE)

    # -- role tokens -----------------------------------------------------

    def issue_role_token(self, token: UserTokenArg, role: str, *,
                         expire: int) -> models.RoleToken:
        """Mint a role token; ``expire`` seconds, 0 = K2HR3's longest.

        Never re-sent after the server may have acted: each retry would
        leave another long-lived token behind.
        """
        if isinstance(expire, bool) or not isinstance(expire, int) or (
                expire < 0):
            raise errors.K2hr3ValueError('expire must be an int >= 0')
        reply = self._t.request('GET', '/v1/role/token/' + _path_of(role),
                                token=_u(token),
                                params={'expire': str(expire)},
                                retry=Retry.IF_NOT_SENT)
        value = _body(reply.body, 'token')
        registerpath = reply.body.get('registerpath')
        self._secret(value, registerpath)
        return models.RoleToken(token=value, registerpath=registerpath)

    def list_role_tokens(self, token: UserTokenArg,
                         role: str) -> list[models.RoleToken]:
        reply = self._t.request('GET',
                                '/v1/role/token/list/' + _path_of(role),
                                token=_u(token), params={'expand': 'true'})
        tokens = _body(reply.body, 'tokens') or {}
        if isinstance(tokens, list):  # expand=false shape
            tokens = {t: {} for t in tokens}
        out = []
        for value, info in tokens.items():
            info = info or {}
            self._secret(value, info.get('registerpath'))
            out.append(models.RoleToken(
                token=value, registerpath=info.get('registerpath'),
                expire=models.parse_expire(info.get('expire')),
                ip=info.get('ip')))
        return out

    def revoke_role_token(self, token: UserTokenArg,
                          role_token: RoleTokenArg) -> None:
        raw = _r(role_token)[2:]
        self._secret(raw)
        if not all(c.isalnum() or c in '-_.' for c in raw):
            raise errors.K2hr3ValueError('malformed role token')
        self._t.request('DELETE', '/v1/role/token/' + quote_path(raw),
                        token=_u(token), ok_statuses=_GONE)


def _yrn_path(value: models.Yrn, kind: str) -> str:
    if not isinstance(value, models.Yrn) or value.kind != kind:
        raise errors.K2hr3ValueError('a full %s YRN is required' % kind)
    return quote_path(str(value))


def _member_query(port: int, cuk: str | None, extra: str | None,
                  tag: str | None, inboundip: str | None,
                  outboundip: str | None) -> dict[str, str]:
    params = {'port': str(models.check_port(port))}
    for name, value in (('cuk', cuk), ('extra', extra), ('tag', tag)):
        if value:
            params[name] = models.check_field(value, name)
    for name, value in (('inboundip', inboundip),
                        ('outboundip', outboundip)):
        if value:
            params[name] = models.check_host(value)
    return params


def _host_query(host: models.RoleHost) -> dict[str, str]:
    params = {'host': models.check_host(host.host)}
    params.update(_member_query(host.port, host.cuk, host.extra, host.tag,
                                host.inboundip, host.outboundip))
    return params

