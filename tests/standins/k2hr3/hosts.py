"""Role members ("hosts"): their JSON form, key and display string."""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Any


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


#: What the real server takes for a number (k2hr3apiutil ``isSafeNumeric``).
_NUMERIC = re.compile(r'[+-]?(?:\d+|\d*\.\d+)(?:[eE][+-]?\d+)?$')

Port = int | float


def parse_port(value: Any) -> Port | None:
    """The port a request names, or None (taken as "any").

    The 2.0.3 server never rejects a port: anything that is not a number
    (``abc``, empty, a boolean) counts as not given, which stores a member
    as "any" (third capture D2), and any number is kept as it is, range
    unchecked (70000 and -1 are listed as such).
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return value if math.isfinite(value) else None
    text = str(value).strip()
    if not _NUMERIC.match(text):
        return None
    number = float(text)
    if not math.isfinite(number):
        return None
    return int(number) if number.is_integer() else number


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
    """``"<ip|name> <port|*> <cuk>"`` plus, after a space, the trailing
    fields ``<extra> <tag> <inboundip> <outboundip>``, as 2.0.3 builds it
    (third capture D3): the cuk slot is always there, so a member without
    a cuk ends in a space (``"10.0.0.3 * "``); in the trailing part the
    empty fields at the end and at the start are cut, but an empty field
    between two set ones leaves its separator (``"t6  10.2.2.2"``).
    Unshown extras count as empty."""
    port = '*' if host['port'] == 0 else str(host['port'])
    tail = ''
    for field in (host['outboundip'], host['inboundip'], host['tag'],
                  shown_extra(host)):
        tail = (field or '') + ' ' + tail.rstrip()
    tail = tail.strip()
    head = '%s %s %s' % (host['host'], port, host['cuk'] or '')
    return head + ' ' + tail if tail else head
