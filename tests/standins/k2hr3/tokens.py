"""User and role tokens, and the opaque role-token ``registerpath``.

Formats follow ``placeholders.json``: tokens are 64 lower-case hex
characters; a registerpath is encodeURIComponent(base64(...)) of an
OpenSSL-style salted AES-256-CBC blob of ``{"role":..,"token":..}``
(here random bytes of the same size, since nothing decrypts it).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import json
import secrets
import urllib.parse

USER_TOKEN_LIFETIME = 24 * 3600
ROLE_TOKEN_LIFETIME = 24 * 3600
ROLE_TOKEN_NO_EXPIRY = 315360000          # expire=0: about 10 years


def new_token() -> str:
    return secrets.token_hex(32)


def new_registerpath(role_yrn: str, token: str) -> str:
    plain = len(json.dumps({'role': role_yrn, 'token': token},
                           separators=(',', ':')))
    cipher = (plain // 16 + 1) * 16
    blob = b'Salted__' + secrets.token_bytes(8 + cipher)
    return urllib.parse.quote(base64.b64encode(blob).decode(), safe='')


def iso(moment: float) -> str:
    """ISO 8601 UTC with milliseconds, as JavaScript's toISOString()."""
    stamp = datetime.datetime.fromtimestamp(
        int(moment), datetime.UTC)
    return stamp.strftime('%Y-%m-%dT%H:%M:%S.000Z')


@dataclasses.dataclass
class UserToken:
    token: str
    user: str
    tenant: str | None                       # None = unscoped
    tenants: list[dict]                      # what the user may scope to
    expire: float


@dataclasses.dataclass
class RoleToken:
    token: str
    tenant: str
    role: str                                # role path in the tenant
    user: str | None
    date: float
    expire: float
    ip: str | None = None                    # set for IP-bound tokens
    port: int = 0
    cuk: str | None = None
    member: tuple[str, str] | None = None    # (role path, member key)
