"""``python -m tests.rig bench [--sizes 1,3,6 | --grow-keys N]``: how
long a user waits.

Times ``cluster create`` -> ACTIVE and then ``cluster grow`` by one member
-> ACTIVE for each size, and deletes every cluster at the end. With
``--grow-keys`` it times a 3 -> 4 grow holding N keys step by step, next
to the same data-plane change done by hand (``floor``).
A measurement on a shared 2-core machine, not a test: the numbers say
where the time goes, they assert nothing.
"""

from __future__ import annotations

import functools
import pathlib
import time
from typing import Any

from tests.rig import cli
from tests.rig import cluster
from tests.rig import dataset
from tests.rig import floor
from tests.rig import slave
from tests.rig import state
from trove_k2hdkc.exceptions import K2hdkcError


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


# -- grow 3 -> 4 with data, next to the hand-driven floor ----------------

GROW_FROM = 3
POLL = 0.5


def _views(ips: list[str]) -> dict[str, list[tuple[str, int]] | None]:
    """{member ip: sorted [(server ip, status code)]}; None for a member
    whose chmpx does not answer (yet)."""
    views: dict[str, list[tuple[str, int]] | None] = {}
    for ip in ips:
        try:
            ring = cluster.all_status(ip)
        except (K2hdkcError, OSError):
            views[ip] = None
            continue
        views[ip] = sorted((s.server_name, s.status.code)
                           for s in ring.servers)
    return views


def wait_converged(info: dict[str, Any], cluster_id: str, count: int,
                   timeout: float) -> list[str]:
    """Until every member's ALLSTATUS lists exactly ``count`` servers, the
    members, all 0x21 (SERVICE IN, UP, no merge); their IPs. The member
    list is asked of Trove only until it has ``count`` addresses: the CLI
    is slow, the control ports are not."""
    deadline = time.monotonic() + timeout
    ips: list[str] = []
    views: dict[str, Any] = {}
    while time.monotonic() < deadline:
        if len(ips) < count:
            ips = sorted(m['ip'] for m in cluster.instances(info, cluster_id)
                         if m.get('ip'))
        if len(ips) == count:
            views = _views(ips)
            want = [(ip, slave.HEALTHY) for ip in ips]
            if all(v == want for v in views.values()):
                return ips
        time.sleep(POLL)
    raise RuntimeError('ring of %s not converged: members %s, views %s'
                       % (cluster_id, ips, views))


def _delete(info: dict[str, Any], cluster_id: str,
            timeout: float = 900) -> None:
    """Delete, retrying while Trove refuses (a cluster task is running,
    e.g. after a failure mid-create), then wait until it is gone."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            cli.openstack(info, 'database', 'cluster', 'delete',
                          cluster_id, parse=False)
            break
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(5)
    cluster.wait_gone(info, cluster_id, timeout=300)


def trove_grow(state_dir: pathlib.Path, data: dataset.DataSet
               ) -> dict[str, Any]:
    """Seconds from the ``cluster grow`` call to ring converged, all keys
    readable through a refreshed slave, and ACTIVE (rolling purge done);
    the cluster is deleted at the end."""
    info = state.rig_info(state_dir)
    cid = cluster.create(info, 'bench-grow', GROW_FROM)['id']
    try:
        with slave.RigSlave(info, cid, state_dir / 'bench-slave') as client:
            # Role provisioning can outlast register's 60 s default here.
            client.register(timeout=600)
            cluster.wait_active(info, cid, timeout=900)
            members = [m['ip'] for m in cluster.instances(info, cid)]
            client.start()
            client.wait_ring(members, timeout=120)
            run = functools.partial(client.run, timeout=600)
            start = time.monotonic()
            floor.load(run, data)
            print('trove: %d keys loaded in %.1f s' % (
                len(data.values), time.monotonic() - start), flush=True)

            t0 = time.monotonic()
            cluster.grow(info, cid)
            ips = wait_converged(info, cid, GROW_FROM + 1, timeout=1800)
            t_ring = time.monotonic() - t0
            print('trove: ring converged %.1f s' % t_ring, flush=True)
            client.refresh()
            client.wait_ring(ips, timeout=120)
            report = dataset.check(data, floor.reader(run))
            t_read = time.monotonic() - t0
            print('trove: keys read %.1f s: %s' % (t_read, report),
                  flush=True)
            cluster.wait_active(info, cid, timeout=1800)
            t_active = time.monotonic() - t0
    finally:
        _delete(info, cid)
    return {'ring': t_ring, 'read': t_read, 'active': t_active,
            'report': report}


def show_grow(keys: int, trove: dict[str, Any] | None,
              hand: floor.Floor) -> None:
    """Seconds since the grow started, Trove next to the floor (whose
    read and purge run one after the other)."""
    rows = [('ring converged (4 x 0x21)', 'ring', hand.ring),
            ('all keys readable', 'read', hand.ring + hand.read),
            ('purge done / ACTIVE', 'active',
             hand.ring + hand.read + hand.purge)]
    print('\ngrow 3 -> 4 with %d keys, seconds since the grow started'
          % keys)
    print('%-28s %9s %9s' % ('step', 'trove', 'floor'))
    for what, key, low in rows:
        high = '%9.1f' % trove[key] if trove else '%9s' % '-'
        print('%-28s %s %9.1f' % (what, high, low))
    if trove:
        print('trove read-back: %s' % trove['report'])
    print('floor read-back: %s' % hand.report, flush=True)


def run_grow(state_dir: pathlib.Path, keys: int) -> int:
    """The floor, then the same grow through Trove on the rig."""
    data = dataset.DataSet.make(keys)
    hand = floor.measure(keys)
    floor.show(hand)
    trove = trove_grow(state_dir, data)
    show_grow(keys, trove, hand)
    return 0
