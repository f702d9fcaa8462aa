"""A dead member is shrunk out and replaced by a grow; no key is lost.

Through the real Trove services and the stock ``openstack`` CLI: a member's
VM dies (every process in it killed, doc/ring-procedures.md §6), the user
shrinks it out of the cluster and grows a new member (doc/ring-procedures.md
§4, "A dead leaver"). A client node reads every key at each step; with
REPLICA=1 each key of the dead member has a copy on a live one.
"""

from __future__ import annotations

import pytest

from tests.rig import cluster
from tests.rig import procs
from tests.rig import scenario
from tests.rig import vm

pytestmark = pytest.mark.rig

N_KEYS = 500
SERVICE_IN_DOWN = 0x20


@pytest.mark.timeout(1800)
def test_dead_member_shrunk_out_and_replaced(trove_rig):
    loaded = scenario.load(trove_rig, 'deadshrink', 3, N_KEYS)
    try:
        members = loaded.assert_ring(3)
        victim = members[1]
        alive = [m for m in members if m['id'] != victim['id']]
        key = cluster.vm_key(loaded.info, victim['ip'])
        vm.crash(loaded.rig.state_dir, loaded.info['name'], key)

        def seen_down() -> bool:
            return all(any(s.server_name == victim['ip']
                           and s.status.code == SERVICE_IN_DOWN
                           for s in cluster.all_status(m['ip']).servers)
                       for m in alive)
        procs.wait_until(seen_down, 60, 'the ring to see %s DOWN'
                         % victim['ip'])
        report = loaded.check()
        assert report.ok, 'with a member dead: %s' % report

        cluster.shrink(loaded.info, loaded.id, victim['id'])
        left = loaded.settle(2)
        assert victim['id'] not in {m['id'] for m in left}
        assert sorted(m['id'] for m in left) == sorted(
            m['id'] for m in alive)
        report = loaded.check()
        assert report.ok, 'after shrinking the dead member out: %s' % report

        cluster.grow(loaded.info, loaded.id)
        grown = loaded.settle(3)
        assert victim['id'] not in {m['id'] for m in grown}
        report = loaded.check()
        assert report.ok, 'after the replacing grow: %s' % report
    finally:
        scenario.delete(loaded)
