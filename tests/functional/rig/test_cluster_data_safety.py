"""No key is lost when a cluster grows, shrinks, loses a member or an agent.

Through the real Trove services and the stock ``openstack`` CLI: a user's
client node (CHMPX slave in the cluster's K2HR3 slave role, INI rendered
by K2HR3) writes 10,000 keys with ``k2hdkclinetool``; after every step
every live key must read back with its value and no deleted key may come
back (doc/ring-procedures.md §5). test_cluster_stock_loss.py runs the same
check on upstream's procedure and expects it to fail.

The tests of this module share one cluster and run in order (a cluster
step takes about a minute on two cores); each one asserts the data.
"""

from __future__ import annotations

from collections.abc import Iterator
import time

import pytest

from tests.rig import cluster
from tests.rig import dataset
from tests.rig import launcher
from tests.rig import procs
from tests.rig import scenario
from tests.rig import vm

pytestmark = pytest.mark.rig

N_KEYS = 10000
UPGRADE_VERSION = '1.0.16-rig-upgrade'
SERVICE_IN_DOWN = 0x20


@pytest.fixture(scope='module')
def loaded(trove_rig) -> Iterator[scenario.Loaded]:
    data = scenario.load(trove_rig, 'safe', 3, N_KEYS)
    try:
        yield data
    finally:
        scenario.delete(data)


@pytest.mark.timeout(1500)
def test_grow_and_shrink_keep_every_key(loaded):
    cluster.grow(loaded.info, loaded.id)
    loaded.settle(4)
    report = loaded.check()
    assert report.ok, 'after grow 3->4: %s' % report

    loaded.delete_more(every=7)
    cluster.grow(loaded.info, loaded.id)
    members = loaded.settle(5)
    report = loaded.check()
    assert report.ok, 'after grow 4->5: %s' % report

    # Two original members leave, one per shrink (REPLICA = 1): their
    # keys must move, not vanish.
    for leaver, left in ((members[0], 4), (members[1], 3)):
        cluster.shrink(loaded.info, loaded.id, leaver['id'])
        shrunk = loaded.settle(left)
        assert leaver['id'] not in {m['id'] for m in shrunk}
        report = loaded.check()
        assert report.ok, 'after shrink to %d: %s' % (left, report)


@pytest.mark.timeout(900)
def test_dead_member_keeps_keys_readable_and_rejoins(loaded):
    """A member's VM dies (not deleted): reads fall back to replicas,
    writes go on; the VM comes back with its disk and identity and its
    guest rejoins it to the ring by MERGE/COMPMERGE (doc/ring-procedures.md
    §6)."""
    members = loaded.assert_ring(3)
    victim, witness = members[0], members[1]
    key = cluster.vm_key(loaded.info, victim['ip'])
    vm.crash(loaded.rig.state_dir, loaded.info['name'], key)

    def seen_down() -> bool:
        ring = cluster.all_status(witness['ip']).servers
        return any(s.server_name == victim['ip']
                   and s.status.code == SERVICE_IN_DOWN for s in ring)
    procs.wait_until(seen_down, 30, 'the ring to see %s DOWN' % victim['ip'])
    report = loaded.check()
    assert report.ok, 'with a member down: %s' % report

    during = dataset.DataSet.make(200, 'outage')
    loaded.client.run(during.load_commands())
    assert dataset.check(during, loaded.client.values).ok

    vm.start_agent(loaded.rig.state_dir, loaded.info, key)
    procs.wait_until(lambda: scenario.ring_healthy(loaded, 3), 240,
                     'the restarted member to rejoin')
    loaded.settle(3)
    report = loaded.check()
    assert report.ok, 'after the rejoin: %s' % report
    assert dataset.check(during, loaded.client.values).ok


@pytest.mark.timeout(900)
def test_rolling_restart_and_upgrade_keep_every_key(loaded):
    """Restart and upgrade take one member at a time out of the ring
    and bring it back by MERGE/COMPMERGE before the next one."""
    ips = [m['ip'] for m in loaded.assert_ring(3)]
    with scenario.out_of_service(ips) as out:
        cluster.restart(loaded.info, loaded.id)
        _wait_task_none(loaded)
    # Every member was out once (restarted), never two at a time.
    assert max(out) == 1, 'members out of service at once: %s' % out
    loaded.settle(3)
    report = loaded.check()
    assert report.ok, 'after a rolling restart: %s' % report

    launcher.add_datastore_version(loaded.info, UPGRADE_VERSION)
    with scenario.out_of_service(ips) as out:
        cluster.upgrade(loaded.info, loaded.id, UPGRADE_VERSION)
        _wait_task_none(loaded)
    assert max(out) == 1, 'members out of service at once: %s' % out
    loaded.settle(3)
    shown = loaded.rig.openstack('database', 'cluster', 'show', loaded.id)
    assert shown['datastore_version'] == UPGRADE_VERSION
    assert {m['datastore_version'] for m in cluster.instances(
        loaded.info, loaded.id)} == {UPGRADE_VERSION}
    report = loaded.check()
    assert report.ok, 'after a rolling upgrade: %s' % report


@pytest.mark.timeout(1200)
def test_guest_agent_killed_during_grow(loaded):
    """The agent of an existing member dies while the taskmanager waits
    for the new member's [ADD][Pending] and comes back 20 s later: the
    grow completes and no key is lost."""
    members = loaded.assert_ring(3)
    key = cluster.vm_key(loaded.info, members[-1]['ip'])
    mark = cluster.taskmanager_log_mark(loaded.info)
    cluster.grow(loaded.info, loaded.id)
    cluster.wait_taskmanager_log(loaded.info, 'grow: service in', mark)
    vm.kill_agent(loaded.rig.state_dir, key)
    time.sleep(20)
    agent_log = vm.vm_root(loaded.rig.state_dir, key) / 'guest-agent.log'
    since = agent_log.stat().st_size
    vm.start_agent(loaded.rig.state_dir, loaded.info, key)
    loaded.settle(4, timeout=900)
    report = loaded.check()
    assert report.ok, 'after a grow with an agent restart: %s' % report
    # The grow waited for the agent: its k2hdkc restart (doc/ring-procedures.md
    # §3 step 4) came after the agent was back.
    with open(agent_log, 'rb') as f:
        f.seek(since)
        assert b'Stopping k2hdkc' in f.read()


def _wait_task_none(loaded, timeout: float = 600) -> None:
    """Until the cluster task (set when the action was accepted) is NONE
    again."""
    procs.wait_until(lambda: loaded.rig.openstack(
        'database', 'cluster', 'show', loaded.id)['task_name'] == 'NONE',
        timeout, 'cluster %s to finish its task' % loaded.id)
