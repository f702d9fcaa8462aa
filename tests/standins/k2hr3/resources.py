"""Resource logic: upsert, raw read, hierarchical expansion, rendering.

Expansion merges root first, then aliases, then the node itself: strings
are concatenated, objects merged, keys merged with the child winning.
Every ancestor must have data (a deleted or never created parent makes
the child unreadable with expand, as captured).
"""

from __future__ import annotations

import re
from typing import Any

from tests.standins.k2hr3 import k2hr3template
from tests.standins.k2hr3 import roles
from tests.standins.k2hr3 import yrn
from tests.standins.k2hr3.store import State

_ROLE_HOSTS = re.compile(r'(.+)/hosts/(ip|name|all)$')
_RES_KEY = re.compile(r'(.+)/keys/(.+)$')


def upsert(state: State, tenant: str, path: str, kind: str,
           data: Any, keys: dict | None, aliases: list | None) -> None:
    """Create or update; None leaves a field unchanged."""
    store = state.tenant(tenant).resources
    node = store.get(path) or {'string': '', 'object': None, 'keys': None,
                               'expire': None, 'aliases': [],
                               'reference': 0}
    node = dict(node)
    if data is not None:
        if kind == 'object':
            node['string'], node['object'] = None, data
        else:
            node['string'], node['object'] = data, None
    if keys is not None:
        node['keys'] = dict(keys)
    if aliases is not None:
        node['aliases'] = list(aliases)
    store.put(path, node)


def expand(state: State, tenant: str, path: str) -> dict | None:
    """Merged {'string', 'object', 'keys'} or None when unreadable; keys
    stay None while no part has any (third capture D4)."""
    store = state.tenant(tenant).resources
    string: str | None = None
    obj: Any = None
    keys: dict | None = None
    for ancestor in store.ancestors(path):
        node = store.get(ancestor)
        if node is None:
            return None
        parts = [_alias_node(state, a) for a in node['aliases']]
        for part in [p for p in parts if p is not None] + [node]:
            if part['string'] is not None:
                string = (string or '') + part['string']
            if isinstance(part['object'], dict) and isinstance(obj, dict):
                obj = {**obj, **part['object']}
            elif part['object'] is not None:
                obj = part['object']
            if part['keys'] is not None:
                keys = {**(keys or {}), **part['keys']}
    return {'string': string, 'object': obj, 'keys': keys}


def _alias_node(state: State, alias: str) -> dict | None:
    parsed = yrn.parse(alias) if isinstance(alias, str) else None
    if parsed is None or parsed[1] != 'resource':
        return None
    return state.tenant(parsed[0]).resources.get(
        yrn.normalise_path(parsed[2]))


def render(state: State, tenant: str, path: str) -> dict | None:
    """Expanded and rendered resource, keys incl. template variables.

    Raises k2hr3template.TemplateError when the engine rejects the data.
    Not modelled: a string resource with no keys anywhere fails to expand
    on the real server (404 "failed to expand"), here it renders with {}.
    """
    merged = expand(state, tenant, path)
    if merged is None or merged['string'] is None:
        return merged
    given = merged['keys'] or {}

    def builtins(name: str) -> tuple[bool, Any]:
        return _builtin(state, tenant, path, given, name)

    text, keys = k2hr3template.render(merged['string'], given, builtins)
    return {'string': text, 'object': merged['object'], 'keys': keys}


def _builtin(state: State, tenant: str, path: str, keys: dict,
             name: str) -> tuple[bool, Any]:
    parsed = yrn.parse(name)
    if parsed is None:
        return False, None
    other_tenant, kind, rest = parsed
    data = state.tenant(other_tenant)
    same = other_tenant == tenant
    if kind == 'role':
        match = _ROLE_HOSTS.match(rest)
        if not match:
            return False, None
        if not same:
            return True, None
        return True, roles.hosts_variable(
            data, yrn.normalise_path(match.group(1)), match.group(2))
    if kind != 'resource' or not same:
        return False, None
    match = _RES_KEY.match(rest)
    if match:
        target = yrn.normalise_path(match.group(1))
        if target == path:
            return True, keys.get(match.group(2))
        node = data.resources.get(target)
        return True, ((node or {}).get('keys') or {}).get(match.group(2))
    node = data.resources.get(yrn.normalise_path(rest))
    if node is None:
        return True, None
    return True, node['object'] if node['string'] is None else node['string']
