"""``python -m tests.rig bench [--sizes 1,3,6]``: how long a user waits.

Times ``cluster create`` -> ACTIVE for each size, then ``cluster grow``
by one member -> ACTIVE on the last cluster, and deletes every cluster.
A measurement on a shared 2-core machine, not a test: the numbers say
where the time goes, they assert nothing.
"""

from __future__ import annotations

import pathlib
import time

from tests.rig import cli
from tests.rig import cluster
from tests.rig import state


def _timed(what: str, action, results: list[tuple[str, float]]) -> None:
    start = time.monotonic()
    action()
    took = time.monotonic() - start
    results.append((what, took))
    print('%-28s %7.1f s' % (what, took), flush=True)


def run(state_dir: pathlib.Path, sizes: list[int]) -> int:
    info = state.rig_info(state_dir)
    results: list[tuple[str, float]] = []
    made: list[str] = []
    try:
        for size in sizes:
            box: dict[str, str] = {}

            def create(size: int = size, box: dict = box) -> None:
                box['id'] = cluster.create(info, 'bench-%d' % size,
                                           size)['id']
                made.append(box['id'])
                cluster.wait_active(info, box['id'], timeout=600 + 60 * size)
            _timed('create %d -> ACTIVE' % size, create, results)
        if made:
            last = made[-1]

            def grow() -> None:
                cluster.grow(info, last)
                cluster.wait_active(info, last, timeout=900)
            _timed('grow %d -> %d -> ACTIVE' % (sizes[-1], sizes[-1] + 1),
                   grow, results)
    finally:
        for cid in made:
            cli.openstack(info, 'database', 'cluster', 'delete', cid,
                          parse=False)
        for cid in made:
            cluster.wait_gone(info, cid, timeout=300)
    return 0
