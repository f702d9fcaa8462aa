"""``python -m tests.rig bench [--sizes 1,3,6]``: how long a user waits.

Times ``cluster create`` -> ACTIVE and then ``cluster grow`` by one member
-> ACTIVE for each size, and deletes every cluster at the end.
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

            def grow(size: int = size, box: dict = box) -> None:
                cluster.grow(info, box['id'])
                cluster.wait_active(info, box['id'], timeout=900 + 60 * size)
            _timed('create %d -> ACTIVE' % size, create, results)
            _timed('grow %d -> %d -> ACTIVE' % (size, size + 1), grow,
                   results)
    finally:
        for cid in made:
            cli.openstack(info, 'database', 'cluster', 'delete', cid,
                          parse=False)
        for cid in made:
            cluster.wait_gone(info, cid, timeout=300)
    return 0
