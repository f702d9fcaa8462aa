"""``python -m tests.rig demo``: a user's walk through the running rig.

Lists the k2hdkc datastore, creates a Trove instance of the
``rig-selftest`` version through the real API -> taskmanager -> rig Nova ->
guest agent -> conductor path, waits for ACTIVE and deletes it; then
creates a 3-member k2hdkc cluster with the product's strategies and guest
manager, waits for it to be ACTIVE and shows it (the cluster is left
running for the user; ``down`` removes it).
"""

from __future__ import annotations

import json
import pathlib
import shlex
from typing import Any

from tests.rig import cli
from tests.rig import cluster
from tests.rig import state


def cli_prefix(info: dict[str, Any]) -> str:
    """How a user runs ``openstack`` against the rig: with a Keystone,
    the rig user's openrc (password login, Trove from the catalog)."""
    if info.get('auth') == 'keystone':
        openrc = pathlib.Path(info['state_dir']) / 'openrc-a'
        return '. %s && %s' % (shlex.quote(str(openrc)),
                               shlex.quote(cli.executable(info)))
    return ('%s --os-auth-type admin_token --os-token %s '
            '--os-endpoint %s' % (shlex.quote(cli.executable(info)),
                                  shlex.quote(info['token']),
                                  info['api_url']))


def member_table(members: list[dict[str, Any]],
                 rings: dict[str, Any]) -> str:
    """One line per member: name, address, Trove status and the CHMPX
    ring state the API reports for it (``-`` when it has none)."""
    rows = [('member', 'ip', 'status', 'ring code', 'ring status')]
    for m in sorted(members, key=lambda m: m['name']):
        ring = rings.get(m['id']) or {}
        rows.append((m['name'], str(m.get('ip') or '-'), m['status'],
                     ring.get('code', '-'), ring.get('status', '-')))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return '\n'.join('  '.join(cell.ljust(w) for cell, w
                                in zip(row, widths, strict=True)).rstrip()
                      for row in rows)


def run(state_dir: pathlib.Path) -> int:
    info = state.rig_info(state_dir)

    def show(title: str, value: Any) -> None:
        print('== %s\n%s' % (title, json.dumps(value, indent=1)))

    print('CLI: ' + cli_prefix(info))
    show('datastore list', cli.openstack(info, 'datastore', 'list'))
    show('datastore version list k2hdkc',
         cli.openstack(info, 'datastore', 'version', 'list', 'k2hdkc'))
    show('database flavor list',
         cli.openstack(info, 'database', 'flavor', 'list'))
    made = cluster.create(info, 'demo-cluster', 3)
    show('database cluster create', made)
    cluster.wait_active(info, made['id'])
    show('database cluster show',
         cli.openstack(info, 'database', 'cluster', 'show', made['id']))
    members = cluster.instances(info, made['id'])
    print('== members (ring_state from GET /clusters/%s)' % made['id'])
    print(member_table(members, cluster.ring_states(info, made['id'])))
    for member in members:
        ring = cluster.all_status(member['ip'])
        print('== chmpx ALLSTATUS via %s: %s' % (member['ip'], ', '.join(
            '%s %s' % (s.server_name, hex(s.status.code))
            for s in ring.servers)))
    print('== openstack database cluster show %s' % made['id'])
    print(cli.openstack(info, 'database', 'cluster', 'show', made['id'],
                        '-f', 'table', parse=False))
    return 0
