"""Role members ("hosts"): their JSON form, key and display string."""

from __future__ import annotations

import ipaddress
from typing import Any


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def parse_port(value: Any) -> int:
    """Port 0, empty or missing means "any"; raises ValueError."""
    if value is None or value == '':
        return 0
    if isinstance(value, bool):
        raise ValueError(value)
    port = int(value)
    if not 0 <= port <= 65535:
        raise ValueError(value)
    return port


#: The only ``extra`` values the 2.0.3 server shows; any other stored
#: extra reads as absent (host strings and template variables).
SHOWN_EXTRAS = frozenset({'openstack-auto-v1', 'k8s-auto-v1'})
#: The extra the server assumes for a member named by ``cuk`` in a DELETE.
CUK_DELETE_EXTRA = 'openstack-auto-v1'


def shown_extra(host: dict) -> str | None:
    return host['extra'] if host['extra'] in SHOWN_EXTRAS else None


def matches_cuk_delete(host: dict, cuk: str) -> bool:
    """A DELETE naming ``cuk`` matches only members whose stored extra is
    absent or ``openstack-auto-v1`` (second capture F1: members with any
    other extra are silently kept)."""
    return host['cuk'] == cuk and host['extra'] in (None, CUK_DELETE_EXTRA)


def make(host: str, port: int, cuk: Any = None, extra: Any = None,
         tag: Any = None, inboundip: Any = None,
         outboundip: Any = None) -> dict:
    """Field order as the real template variable (``one_host``)."""
    return {'host': host, 'port': port, 'extra': extra or None,
            'cuk': cuk or None, 'tag': tag or None,
            'inboundip': inboundip or None,
            'outboundip': outboundip or None}


def key(host: dict) -> str:
    """Members are keyed (and ordered) by ``"<ip>,<port>,<cuk>"``."""
    return '%s,%s,%s' % (host['host'], host['port'], host['cuk'] or '')


def host_string(host: dict) -> str:
    """``"<ip|name> <port|*> <cuk> <extra> <tag> ..."``, empty fields
    dropped and unshown extras hidden (so positional parsing is ambiguous,
    as in the real API)."""
    port = '*' if host['port'] == 0 else str(host['port'])
    fields = [host['host'], port, host['cuk'], shown_extra(host), host['tag'],
              host['inboundip'], host['outboundip']]
    return ' '.join(str(f) for f in fields if f not in (None, ''))
