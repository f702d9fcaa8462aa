"""Value types of the K2HR3 API and the validation of what goes in a URL.

Everything a caller passes that ends up in a K2HR3 path or query is checked
here once, so the client never builds a URL from an unchecked string.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import re
from typing import Any

from trove_k2hdkc.k2hr3.errors import K2hr3ProtocolError
from trove_k2hdkc.k2hr3.errors import K2hr3ValueError

READ_ACTION = 'yrn:yahoo::::action:read'

# K2HR3 lower-cases names; we only ever create lower-case ones.
_NAME_SEGMENT = r'[a-z0-9][a-z0-9._-]{0,127}'
_NAME_RE = re.compile(r'%s(?:/%s){0,7}' % (_NAME_SEGMENT, _NAME_SEGMENT))
# Tenant names: Keystone project names lower-cased, or local@<name>.
_TENANT_RE = re.compile(r'(?:local@)?[a-z0-9][a-z0-9._-]{0,127}')
_YRN_RE = re.compile(
    r'yrn:yahoo:(?P<service>[a-z0-9._-]*):(?P<region>):(?P<tenant>[^:/]*):'
    r'(?P<kind>role|resource|policy):(?P<path>.+)')
# Free-form member fields (cuk, extra, tag) end up in space-separated host
# strings and in the rendered INI: no blanks, no template braces.
_FIELD_RE = re.compile(r'[A-Za-z0-9._:@-]{1,255}')
_KINDS = ('role', 'resource', 'policy')


def check_name(name: str) -> str:
    """A K2HR3 object path such as ``k2hdkc-<uuid>/server``."""
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise K2hr3ValueError('invalid K2HR3 object name')
    return name


def check_tenant(tenant: str) -> str:
    if not isinstance(tenant, str) or not _TENANT_RE.fullmatch(tenant):
        raise K2hr3ValueError('invalid K2HR3 tenant name (lower-case '
                              'letters, digits, ".", "_", "-")')
    return tenant


def check_field(value: str, what: str) -> str:
    if not isinstance(value, str) or not _FIELD_RE.fullmatch(value):
        raise K2hr3ValueError('invalid role member %s' % what)
    return value


def check_query_value(value: str, what: str) -> str:
    """A query value taken from K2HR3 itself: printable, no blanks."""
    if (not isinstance(value, str) or not value or len(value) > 2048
            or not value.isprintable() or any(c.isspace() for c in value)):
        raise K2hr3ValueError('invalid %s' % what)
    return value


def check_host(host: str) -> str:
    """Members are IP addresses (NAME in the INI; no DNS surprises)."""
    try:
        return str(ipaddress.ip_address(host))
    except (ValueError, TypeError):
        raise K2hr3ValueError('role member host must be an IP address'
                              ) from None


def check_port(port: int) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not (
            0 <= port <= 65535):
        raise K2hr3ValueError('invalid port')
    return port


@dataclasses.dataclass(frozen=True)
class Yrn:
    """``yrn:yahoo:<service>::<tenant>:<kind>:<path>`` (region is empty)."""

    tenant: str
    kind: str
    path: str
    service: str = ''

    def __post_init__(self) -> None:
        check_tenant(self.tenant)
        check_name(self.path)
        if self.kind not in _KINDS:
            raise K2hr3ValueError('invalid YRN kind')
        if self.service and not re.fullmatch(r'[a-z0-9._-]+', self.service):
            raise K2hr3ValueError('invalid YRN service')

    def __str__(self) -> str:
        return 'yrn:yahoo:%s::%s:%s:%s' % (self.service, self.tenant,
                                           self.kind, self.path)

    @classmethod
    def parse(cls, text: str) -> Yrn:
        match = _YRN_RE.fullmatch(text or '')
        if not match:
            raise K2hr3ValueError('not a role/resource/policy YRN')
        return cls(tenant=match['tenant'], kind=match['kind'],
                   path=match['path'], service=match['service'])

    def mirror(self, kind: str) -> Yrn:
        """The same path as another kind (role <-> resource)."""
        return dataclasses.replace(self, kind=kind)


#: The only extras K2HR3 2.0.3 shows in a host string; any other stored
#: extra is left out of it (second capture F3), so it can never be read.
SHOWN_EXTRAS = frozenset({'openstack-auto-v1', 'k8s-auto-v1'})


@dataclasses.dataclass(frozen=True)
class RoleHost:
    """One role member; ``port`` 0 means "any"."""

    host: str
    port: int = 0
    cuk: str = ''
    extra: str = ''
    tag: str = ''
    inboundip: str | None = None
    outboundip: str | None = None

    @classmethod
    def parse(cls, entry: str) -> RoleHost:
        """Parse K2HR3's ``"<host> <port|*> <cuk> <extra> <tag> <in> <out>"``.

        K2HR3 2.0.3 always writes the cuk slot, empty or not (a member
        without one reads ``"10.0.0.3 * "``), so host, port and cuk are
        read by position (third capture D3).  Of the trailing fields it
        cuts the empty ones at the start and the end but keeps the
        separator of an empty one in between, and it leaves out an extra
        it does not show (``SHOWN_EXTRAS``): a shown extra is recognised
        by value, then tag, inbound and outbound IP follow by position.
        Only a member with neither a shown extra nor a tag but with an IP
        reads that IP as its tag (this plugin always sets a tag).
        """
        fields = (entry or '').split(' ')
        host = fields[0]
        if not host:
            raise K2hr3ProtocolError('empty role host entry')
        port = 0
        if len(fields) > 1 and fields[1] != '*':
            if not re.fullmatch(r'-?\d+', fields[1]):
                raise K2hr3ProtocolError('bad port in role host entry')
            port = int(fields[1])
        cuk = fields[2] if len(fields) > 2 else ''
        tail = fields[3:]
        extra = tail.pop(0) if tail and tail[0] in SHOWN_EXTRAS else ''
        tag, inbound, outbound = (tail + ['', '', ''])[:3]
        return cls(host=host, port=port, cuk=cuk, extra=extra, tag=tag,
                   inboundip=inbound or None, outboundip=outbound or None)

    def query(self) -> dict[str, str]:
        """Query parameters for add/remove; None fields are left out."""
        out = {'host': self.host, 'port': str(self.port)}
        for name in ('cuk', 'extra', 'tag', 'inboundip', 'outboundip'):
            value = getattr(self, name)
            if value:
                out[name] = value
        return out


@dataclasses.dataclass(frozen=True)
class RoleInfo:
    policies: tuple[str, ...]
    aliases: tuple[str, ...]
    hosts: tuple[RoleHost, ...]


@dataclasses.dataclass(frozen=True)
class Resource:
    """A resource as read with a user token."""

    string: str | None
    object: Any
    keys: dict[str, Any]
    expire: Any = None
    aliases: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Policy:
    name: str
    effect: str
    action: tuple[str, ...]
    resource: tuple[str, ...]
    alias: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class UserToken:
    """A scoped K2HR3 user token; the secret never shows in ``repr``."""

    token: str = dataclasses.field(repr=False)
    tenant: str
    user: str | None = None

    def __str__(self) -> str:
        return '<UserToken tenant=%s>' % self.tenant


@dataclasses.dataclass(frozen=True)
class RoleToken:
    """A role token; ``registerpath`` embeds it, so both stay hidden."""

    token: str = dataclasses.field(repr=False)
    registerpath: str | None = dataclasses.field(default=None, repr=False)
    expire: datetime.datetime | None = None
    ip: str | None = None

    def __str__(self) -> str:
        return '<RoleToken expire=%s>' % self.expire


def parse_expire(value: Any) -> datetime.datetime | None:
    """K2HR3 gives ISO 8601 UTC (``2036-11-18T23:55:25.000Z``)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.datetime.fromisoformat(value.replace('Z', '+00:00'))
    except ValueError:
        return None
