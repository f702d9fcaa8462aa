"""``openstack database instance create|delete`` of one K2HDKC node.

Real trove-api/taskmanager (``trove_k2hdkc.taskmanager.Manager``) and
conductor, the guest manager in one rig VM, the K2HR3 API stand-in and
the data-plane stand-ins: the taskmanager provisions the instance's
K2HR3 layout, the guest registers itself and bootstraps a one-server
ring; delete removes the VM and every K2HR3 object of the instance.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.functional.rig.test_cluster_e2e import assert_no_secret_in_logs
from tests.rig import cli
from tests.rig import cluster
from tests.rig import netns
from tests.rig import procs

pytestmark = pytest.mark.rig

HEALTHY_CODE = 0x21


def _wait_instance(info: dict[str, Any], instance_id: str,
                   timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        shown = cli.openstack(info, 'database', 'instance', 'show',
                              instance_id)
        if shown['status'] == 'ERROR':
            raise RuntimeError('instance %s failed: %s' % (instance_id,
                                                           shown))
        if (shown['status'] == 'ACTIVE'
                and shown.get('operating_status') == 'HEALTHY'):
            return shown
        if time.monotonic() > deadline:
            raise RuntimeError('instance %s not ready: %s/%s' % (
                instance_id, shown['status'],
                shown.get('operating_status')))
        time.sleep(3)


def _wait_gone(info: dict[str, Any], instance_id: str,
               timeout: float = 180) -> None:
    procs.wait_until(
        lambda: instance_id not in {
            i['ID'] for i in cli.openstack(info, 'database', 'instance',
                                           'list')},
        timeout, 'instance %s to be deleted' % instance_id)


def _ip(shown: dict[str, Any]) -> str:
    ip = shown['ip']
    ips = ip if isinstance(ip, list) else [p.strip() for p in ip.split(',')]
    assert len(ips) == 1, ips
    return ips[0]


def test_instance_create_then_delete(trove_rig):
    info = trove_rig.info
    created = trove_rig.openstack(
        'database', 'instance', 'create', 'k1', '--flavor', '1', '--size',
        '1', '--datastore', 'k2hdkc', '--datastore-version',
        info['datastore_version'], '--nic',
        'net-id=%s' % info['network']['id'])
    iid = created['id']
    shown = _wait_instance(info, iid)
    assert shown.get('cluster_id') in (None, '')

    ring = cluster.all_status(_ip(shown))
    assert [s.server_name for s in ring.servers] == [_ip(shown)]
    assert [s.cuk for s in ring.servers] == [iid]
    assert [s.status.code for s in ring.servers] == [HEALTHY_CODE]
    assert cluster.k2hr3_objects(info, iid), 'no K2HR3 objects created'
    assert_no_secret_in_logs(trove_rig.state_dir, info)

    trove_rig.openstack('database', 'instance', 'delete', iid, parse=False)
    _wait_gone(info, iid)
    assert cluster.k2hr3_objects(info, iid) == []
    procs.wait_until(lambda: not netns.list_namespaces(info['name']), 60,
                     'rig namespaces to go away')
    assert netns.list_namespaces(info['name']) == []
