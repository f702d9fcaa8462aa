"""All state of the stand-in: tenants' objects, tokens, Keystone users.

Guarded by one lock (``State.lock``) that the router holds for the whole
request, which keeps every handler simple and race free.
"""

from __future__ import annotations

import dataclasses
import threading
import time

from tests.standins.k2hr3 import tokens
from tests.standins.k2hr3.hosts import host_string
from tests.standins.k2hr3.tree import Tree


def dummy_tenants() -> list[dict]:
    """The tenants the ``dummyuserapi`` back end gives every user."""
    return [{'name': 'tenant%d' % i, 'display': 'dummy_tenant_%d' % i,
             'id': str(1000 + i), 'description': 'dummy tenant no.%d' % i}
            for i in range(5)]


@dataclasses.dataclass
class TenantData:
    resources: Tree = dataclasses.field(default_factory=Tree)
    roles: Tree = dataclasses.field(default_factory=Tree)
    policies: dict = dataclasses.field(default_factory=dict)


class State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.tenants: dict[str, TenantData] = {}
        self.user_tokens: dict[str, tokens.UserToken] = {}
        self.role_tokens: dict[str, tokens.RoleToken] = {}
        self.keystone: dict[str, tuple[str, list[dict]]] = {}
        #: A Keystone's /v3 URL: unknown ``U=`` tokens are checked there,
        #: as the real K2HR3 does (``keystone.login``).
        self.keystone_url: str | None = None
        #: K2HR3's own K2HDKC store is unreachable: every token reads as
        #: unknown and logins fail (``K2hr3StandIn.store_down``).
        self.store_down = False

    def tenant(self, name: str) -> TenantData:
        return self.tenants.setdefault(name, TenantData())

    def add_keystone_token(self, token: str, user: str,
                           tenants: list[str]) -> None:
        infos = [{'name': t.lower(), 'display': t, 'id': t,
                  'description': t} for t in tenants]
        self.keystone[token] = (user, infos)

    def issue_user_token(self, user: str, tenant: str | None,
                         tenants: list[dict],
                         expire: float | None = None) -> tokens.UserToken:
        lifetime = time.time() + tokens.USER_TOKEN_LIFETIME
        entry = tokens.UserToken(tokens.new_token(), user, tenant, tenants,
                                 min(lifetime, expire or lifetime))
        self.user_tokens[entry.token] = entry
        return entry

    def user_token(self, value: str) -> tokens.UserToken | None:
        entry = self.user_tokens.get(value)
        if entry is None or entry.expire < time.time():
            return None
        return entry

    def role_token(self, value: str) -> tokens.RoleToken | None:
        """A live role token: not expired, role still there, and for an
        IP-bound token its member still registered."""
        entry = self.role_tokens.get(value)
        if entry is None or entry.expire < time.time():
            return None
        roles = self.tenant(entry.tenant).roles
        if roles.get(entry.role) is None:
            return None
        if entry.member is not None:
            holder = roles.get(entry.member[0]) or {'ips': {},
                                                    'hostnames': {}}
            if (entry.member[1] not in holder['ips']
                    and entry.member[1] not in holder['hostnames']):
                return None
        return entry

    def snapshot(self, tenant: str) -> dict:
        data = self.tenant(tenant)
        role_hosts = {}
        for path in data.roles.present():
            role = data.roles.get(path)
            role_hosts[path] = [host_string(h) for h in
                                list(role['ips'].values())
                                + list(role['hostnames'].values())]
        live = [t for t in self.role_tokens.values()
                if t.tenant == tenant and self.role_token(t.token)]
        return {'resources': data.resources.present(),
                'policies': sorted(data.policies),
                'roles': data.roles.present(),
                'role_hosts': role_hosts,
                'role_tokens': len(live)}

