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
from tests.rig import launcher
from tests.rig import scenario

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


