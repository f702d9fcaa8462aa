"""A taskmanager killed in the middle of a grow: the one that starts next
finishes it from the ring's state (doc/ring-procedures.md §11).

Real Trove services and the stock CLI; the taskmanager gets SIGKILL
between the k2hdkc restarts of the existing members (inside the outage
window of §7), so the ring is left with some members Pending and the
new one [ADD][Pending]. The restarted taskmanager must end the task,
bring the ring to four healthy members and keep every key.
"""

from __future__ import annotations

import pytest

from tests.rig import cluster
from tests.rig import faultmatrix
from tests.rig import launcher
from tests.rig import procs
from tests.rig import scenario
from tests.rig import vm

pytestmark = pytest.mark.rig

N_KEYS = 1000


@pytest.mark.timeout(1200)
def test_taskmanager_killed_mid_grow_is_resumed(trove_rig):
    loaded = scenario.load(trove_rig, 'resume', 3, N_KEYS)
    try:
        mark = cluster.taskmanager_log_mark(loaded.info)
        cluster.grow(loaded.info, loaded.id)
        # during the second existing member's k2hdkc restart: the first
        # is Pending, the third still 0x21
        cluster.wait_taskmanager_log(loaded.info, 'grow: restart k2hdkc on',
                                     mark, timeout=600, count=2)
        launcher.restart_taskmanager(loaded.info, kill=True)
        members = loaded.settle(4, timeout=900)
        report = loaded.check()
        assert report.ok, 'after the resumed grow: %s' % report
        # ``instance show`` prints the fault's message
        faults = [str(m.get('fault')) for m in members]
        assert all('grow interrupted by a taskmanager restart' in f
                   for f in faults), faults
        assert all('serving with 4 members in the ring' in f
                   for f in faults), faults
    finally:
        scenario.delete(loaded)



@pytest.mark.timeout(900)
def test_taskmanager_killed_mid_create_is_ended_clearly(trove_rig):
    """A create whose taskmanager died is failed by the next one
    (doc/ring-procedures.md §11): task NONE, every member ERROR with a
    fault saying to delete and create again, no K2HR3 object left, and
    the cluster deletes cleanly."""
    info = trove_rig.info
    mark = cluster.taskmanager_log_mark(info)
    cid = cluster.create(info, 'resume-create', 3)['id']
    try:
        cluster.wait_taskmanager_log(info, 'create begins', mark,
                                     timeout=300)

        def booted() -> bool:
            members = cluster.instances(info, cid)
            keys = [faultmatrix._vm_of(info, m) for m in members]
            return len(keys) == 3 and all(
                k and vm.running(trove_rig.state_dir, k) for k in keys)
        procs.wait_until(booted, 300, 'the three VMs to boot', interval=3)
        launcher.restart_taskmanager(info, kill=True)

        def ended() -> bool:
            return trove_rig.openstack('database', 'cluster', 'show',
                                       cid)['task_name'] == 'NONE'
        procs.wait_until(ended, 180, 'the create to be ended', interval=3)
        members = cluster.instances(info, cid)
        assert len(members) == 3
        assert {m['status'] for m in members} == {'ERROR'}, members
        for m in members:
            assert 'create interrupted by a taskmanager restart' in str(
                m.get('fault')), m
            assert 'delete the cluster and create it again' in str(
                m.get('fault')), m
        assert cluster.k2hr3_objects(info, cid) == []
    finally:
        trove_rig.openstack('database', 'cluster', 'delete', cid,
                            parse=False)
        cluster.wait_gone(info, cid)
    assert cluster.k2hr3_objects(info, cid) == []
