"""The CI subset of the fault matrix (tests/rig/faultmatrix.py; the
README holds the table of a full run): a fault at a step of grow or
shrink, and the cluster ends serving in the old or the new topology with
every acknowledged key readable, the task ended, and the members saying
why (doc/ring-procedures.md §3, §4, §11).
"""

from __future__ import annotations

import pytest

from tests.rig import faultmatrix

pytestmark = pytest.mark.rig

KEYS = 200

# step, fault -> the topology it must end in, and what the status says
# (shrink:merge taskmanager runs in the full matrix only: a taskmanager
# restart is covered in CI by test_cluster_resume.py, and the cell's
# 160 s would take CI past its time budget.)
CELLS = {
    ('grow:merge', 'k2hdkc'): ('new (4)', 'ACTIVE'),
    # the leaver's VM lost at its own SERVICEOUT: it leaves as a dead
    # member does (doc/ring-procedures.md §4); it ended ERROR before
    ('shrink:serviceout', 'vm-gone'): ('new (2)', 'ACTIVE'),
}


@pytest.mark.timeout(900)
@pytest.mark.parametrize('step, fault', sorted(CELLS))
def test_cell_ends_serving(trove_rig, step, fault):
    topology, says = CELLS[step, fault]
    result = faultmatrix.run_cell(trove_rig, step, fault, keys=KEYS)
    print(faultmatrix.HEADER)
    print(result.row())
    assert result.task == 'NONE', result
    assert result.topology == topology, result
    readable, total = result.keys.split('/')
    assert readable == total and int(total) > 0, result
    assert result.serving_after is not None, result
    assert says in result.status, result
    if fault in faultmatrix.KILLS:
        # not vacuous: the process was killed while the merge was held
        # in [Doing] (the stand-ins' hold_merge gate)
        assert result.held and result.hits and result.hits >= 1, result
        assert 'not back' not in result.fault, result
