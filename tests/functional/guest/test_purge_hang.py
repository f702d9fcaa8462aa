"""A purge whose merge hangs in [Doing] on real processes (the data-plane
stand-ins' ``hang_merge`` fault) is aborted via a peer and retried; the
node ends healthy with every key readable (doc/ring-procedures.md §5,
§8)."""

from __future__ import annotations

from tests.functional.guest.test_node_lifecycle import node  # noqa: F401
from tests.functional.guest.test_ring_rejoin import HEALTHY
from tests.functional.guest.test_ring_rejoin import KEYS
from tests.functional.guest.test_ring_rejoin import trio  # noqa: F401
from tests.standins.dataplane import faults
from tests.standins.k2hr3.fixture import k2hr3_standin  # noqa: F401
from tests.unit.guest.conffix import guest_conf  # noqa: F401


def test_hung_purge_merge_is_aborted_via_a_peer_and_retried(
        trio, caplog):  # noqa: F811
    mgr, ring = trio.mgr, trio.ring
    # the guest's chmpx must read the ring's faults file: start it again
    mgr.app.runtime.env[faults.ENV] = str(ring.faults_path)
    assert mgr.restart(None)['self']['status']['code'] == HEALTHY
    ring.wait_all([HEALTHY] * 3, via='slave')
    mgr.app.merge_timeout = 3.0
    faults.write(ring.faults_path,
                 hang_merge=faults.hang_merge('purging', clears='abort'))

    status = mgr.purge_node(None)

    assert status['self']['status']['code'] == HEALTHY
    fired = [e for e in faults.events(ring.faults_path)
             if e['fault'] == 'hang_merge']
    assert len(fired) == 1 and fired[0]['role'] == 'purging'
    assert 'Merge back 1 of 2 hangs' in caplog.text
    assert 'Hung merge aborted via' in caplog.text
    ring.wait_all([HEALTHY] * 3, via='slave')
    assert ring.readable(KEYS) == len(KEYS)
