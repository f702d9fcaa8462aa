"""Role logic: create/update, members, inherited policies, membership."""

from __future__ import annotations

from tests.standins.k2hr3 import hosts as hostlib
from tests.standins.k2hr3.store import TenantData


def new_role() -> dict:
    return {'policies': [], 'aliases': [], 'ips': {}, 'hostnames': {}}


def upsert(data: TenantData, path: str, policies: list | None,
           aliases: list | None) -> None:
    role = data.roles.get(path) or new_role()
    if policies is not None:
        role['policies'] = list(policies)
    if aliases is not None:
        role['aliases'] = list(aliases)
    data.roles.put(path, role)


def add_host(data: TenantData, path: str, host: dict) -> None:
    """Add (or update) a member; creates the role if needed (as the
    real API does).  Same host+cuk: "any" port and fixed ports replace
    each other."""
    role = data.roles.get(path) or new_role()
    table = role['ips'] if hostlib.is_ip(host['host']) else role['hostnames']
    for old_key, old in list(table.items()):
        if (old['host'] == host['host'] and old['cuk'] == host['cuk']
                and (old['port'] == 0) != (host['port'] == 0)):
            del table[old_key]
    table[hostlib.key(host)] = host
    data.roles.put(path, role)


def clear_hosts(data: TenantData, path: str, hostnames: bool,
                ips: bool) -> None:
    role = data.roles.get(path)
    if role is not None:
        if hostnames:
            role['hostnames'].clear()
        if ips:
            role['ips'].clear()


def delete_hosts(data: TenantData, path: str, host: str | None,
                 port: int | None, cuk: str | None) -> int:
    """Remove members matching the given fields; returns how many."""
    role = data.roles.get(path)
    if role is None:
        return 0
    removed = 0
    for table in (role['ips'], role['hostnames']):
        for member_key, member in list(table.items()):
            if _matches_delete(member, host, port, cuk):
                del table[member_key]
                removed += 1
    return removed


def _matches(member: dict, host: str | None, port: int | None,
             cuk: str | None, exact_port: bool) -> bool:
    if host is not None and member['host'] != host:
        return False
    if port is not None and member['port'] != port and not (
            not exact_port and member['port'] == 0):
        return False
    return cuk is None or member['cuk'] == cuk


def _matches_delete(member: dict, host: str | None, port: int | None,
                    cuk: str | None) -> bool:
    if cuk is not None and not hostlib.matches_cuk_delete(member, cuk):
        return False
    return _matches(member, host, port, None, exact_port=True)


def sorted_hosts(table: dict) -> list[dict]:
    return [table[k] for k in sorted(table)]


def merged_policies(data: TenantData, path: str) -> list[str]:
    """Own policies plus the ancestors' (expand=true), parent first."""
    result: list[str] = []
    for ancestor in data.roles.ancestors(path):
        role = data.roles.get(ancestor)
        for policy in (role or {}).get('policies', []):
            if policy not in result:
                result.append(policy)
    return result


def find_member(data: TenantData, path: str, ip: str, port: int | None,
                cuk: str | None) -> tuple[str, dict] | None:
    """(role path, member) of a matching host of the role or of one of
    its children (hosts of a child role are members of the parent)."""
    for candidate in [path] + data.roles.children(path):
        role = data.roles.get(candidate)
        if role is None:
            continue
        for member in list(role['ips'].values()) + list(
                role['hostnames'].values()):
            if _matches(member, ip, port, cuk, exact_port=False):
                return candidate, member
    return None


def is_member(data: TenantData, path: str, ip: str, port: int | None,
              cuk: str | None) -> bool:
    return find_member(data, path, ip, port, cuk) is not None


def hosts_variable(data: TenantData, path: str, which: str) -> dict | None:
    """Template variable ``%yrn:..:role:<path>/hosts/<ip|name|all>%``."""
    role = data.roles.get(path)
    if role is None:
        return None
    tables = {'ip': [role['ips']], 'name': [role['hostnames']],
              'all': [role['ips'], role['hostnames']]}[which]
    merged = {}
    for table in tables:
        merged.update(table)
    return {k: dict(merged[k], extra=hostlib.shown_extra(merged[k]))
            for k in sorted(merged)}
