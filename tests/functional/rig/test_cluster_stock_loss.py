"""The data check of test_cluster_data_safety.py can fail.

Same rig, CLI, client node and 10,000 keys, but trove-taskmanager runs
upstream's scaling procedure (tests/rig/stock.py): grow 3->4 must leave
keys unreadable, as on the real binaries (doc/ring-procedures.md §1).
"""

from __future__ import annotations

import pytest

from tests.rig import cluster
from tests.rig import launcher
from tests.rig import scenario
from tests.rig import stock

pytestmark = pytest.mark.rig

N_KEYS = 10000


@pytest.mark.timeout(900)
def test_stock_procedure_loses_keys(trove_rig):
    """The same check on upstream's procedure (no restarts of the old
    nodes, no purge) must report lost keys after grow 3->4."""
    extra = trove_rig.state_dir / 'stock-taskmanager.conf'
    extra.write_text(stock.STOCK_CONF)
    launcher.restart_taskmanager(trove_rig.info, extra)
    try:
        loaded = scenario.load(trove_rig, 'stock', 3, N_KEYS)
        try:
            cluster.grow(loaded.info, loaded.id)
            loaded.settle(4)
            report = loaded.check()
            assert not report.ok
            # Only the joining node merged: keys whose primary moved
            # between old nodes are gone (149/200 on the real binaries).
            assert len(report.missing) > N_KEYS // 10, report
        finally:
            scenario.delete(loaded)
    finally:
        launcher.restart_taskmanager(trove_rig.info)


