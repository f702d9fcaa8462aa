"""``openstack database cluster create|delete`` end to end in the rig.

Real trove-api/taskmanager/conductor, the product's cluster strategies
and guest manager in three rig VMs, the K2HR3 API stand-in and the
data-plane stand-ins. One test walks create -> checks -> delete because
a cluster takes a minute to build on two cores.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from tests.rig import cluster
from tests.rig import netns
from tests.rig import procs

pytestmark = pytest.mark.rig

MEMBERS = 3
HEALTHY_CODE = 0x21


def test_cluster_create_then_delete(trove_rig):
    info = trove_rig.info
    created = cluster.create(info, 'c1', MEMBERS)
    cid = created['id']
    shown = cluster.wait_active(info, cid)
    assert shown['task_name'] == 'NONE'
    assert shown['instance_count'] == MEMBERS

    members = cluster.instances(info, cid)
    assert len(members) == MEMBERS
    assert {m['operating_status'] for m in members} == {'HEALTHY'}
    ips = sorted(m['ip'] for m in members)
    ids = sorted(m['id'] for m in members)

    for ip in ips:
        ring = cluster.all_status(ip)
        assert sorted(s.server_name for s in ring.servers) == ips
        assert sorted(s.cuk for s in ring.servers) == ids
        assert {s.status.code for s in ring.servers} == {HEALTHY_CODE}
    # The API's cluster show carries each member's own ring state.
    healthy = {'code': '0x21',
               'status': '[SERVICE IN][UP][n/a][Nothing][NoSuspend]'}
    assert cluster.ring_states(info, cid) == dict.fromkeys(ids, healthy)
    assert cluster.k2hr3_objects(info, cid), 'no K2HR3 objects created'
    assert_no_secret_in_logs(trove_rig.state_dir, info)

    trove_rig.openstack('database', 'cluster', 'delete', cid, parse=False)
    cluster.wait_gone(info, cid)
    assert cluster.k2hr3_objects(info, cid) == []
    # Rig Nova removes a VM's namespace when Trove deletes the server,
    # which may trail the instance's disappearance from the API.
    procs.wait_until(lambda: not netns.list_namespaces(info['name']), 60,
                     'rig namespaces to go away')
    assert netns.list_namespaces(info['name']) == []


def assert_no_secret_in_logs(state_dir: pathlib.Path, info: dict) -> None:
    """No role token (as stored by each guest) nor the rig's Keystone token
    appears in any log the rig's Trove services or guests wrote."""
    secrets = {info['token']}
    for access in state_dir.glob('vms/*/conf/k2hr3-access.json'):
        secrets.add(json.loads(access.read_text())['role_token'])
    assert len(secrets) > 1, 'no guest stored its K2HR3 access'
    logs = [*state_dir.glob('logs/*.log'), *state_dir.glob('vms/*/*.log'),
            *state_dir.glob('vms/*/log/**/*.log')]
    assert logs
    for log in logs:
        text = log.read_text(errors='replace')
        for secret in secrets:
            assert secret not in text, 'a token appears in %s' % log
