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
    return ('openstack --os-auth-type admin_token --os-token %s '
            '--os-endpoint %s' % (shlex.quote(info['token']),
                                  info['api_url']))


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
    for member in cluster.instances(info, made['id']):
        ring = cluster.all_status(member['ip'])
        print('== chmpx ALLSTATUS via %s: %s' % (member['ip'], ', '.join(
            '%s %s' % (s.server_name, hex(s.status.code))
            for s in ring.servers)))
    print('== openstack database cluster show %s' % made['id'])
    print(cli.openstack(info, 'database', 'cluster', 'show', made['id'],
                        '-f', 'table', parse=False))
    return 0
