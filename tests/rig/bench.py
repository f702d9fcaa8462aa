"""``python -m tests.rig bench [--sizes 1,3,6 | --grow-keys N]``: how
long a user waits.

Times ``cluster create`` -> ACTIVE and then ``cluster grow`` by one member
-> ACTIVE for each size, and deletes every cluster at the end. With
``--grow-keys`` it times a 3 -> 4 grow holding N keys step by step, next
to the same data-plane change done by hand (``floor``) on the same
chmpx/k2hdkc programs as the rig's VMs, and prints Trove / floor.
A measurement on a shared 2-core machine, not a test: the numbers say
where the time goes, they assert nothing.
"""

from __future__ import annotations

import pathlib
import time
from typing import Any

from tests.rig import binaries
from tests.rig import cli
from tests.rig import cluster
from tests.rig import dataset
from tests.rig import floor
from tests.rig import floor_ns
from tests.rig import scenario
from tests.rig import state
from tests.rig.fixture import RigHandle


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
            views = scenario.views(ips)
            if scenario.all_healthy(views):
                return ips
        time.sleep(POLL)
    raise RuntimeError('ring of %s not converged: members %s, views %s'
                       % (cluster_id, ips, views))


def trove_grow(state_dir: pathlib.Path, data: dataset.DataSet
               ) -> dict[str, Any]:
    """Seconds from the ``cluster grow`` call to ring converged, all keys
    readable through a refreshed slave, and ACTIVE (rolling purge done);
    the cluster is deleted at the end."""
    rig = RigHandle(info=state.rig_info(state_dir), state_dir=state_dir)
    loaded = scenario.start(rig, 'bench-grow', GROW_FROM, data)
    try:
        start = time.monotonic()
        loaded.write()
        t_load = time.monotonic() - start
        print('trove: %d keys loaded in %.1f s' % (len(data.values),
                                                   t_load), flush=True)

        t0 = time.monotonic()
        cluster.grow(rig.info, loaded.id)
        ips = wait_converged(rig.info, loaded.id, GROW_FROM + 1,
                             timeout=1800)
        t_ring = time.monotonic() - t0
        print('trove: ring converged %.1f s' % t_ring, flush=True)
        loaded.client.refresh()
        loaded.client.wait_ring(ips, timeout=120)
        report = loaded.check()
        t_read = time.monotonic() - t0
        print('trove: keys read %.1f s: %s' % (t_read, report), flush=True)
        cluster.wait_active(rig.info, loaded.id, timeout=1800)
        t_active = time.monotonic() - t0
    finally:
        scenario.delete(loaded)
    return {'load': t_load, 'ring': t_ring, 'read': t_read,
            'active': t_active, 'report': report}


def ratio(product: float | None, floor_secs: float) -> str:
    """``product / floor`` as ``4.2x``; ``-`` when either is missing."""
    if not product or floor_secs <= 0:
        return '-'
    return '%.1fx' % (product / floor_secs)


def _floor_rows(load: float, ring: float, read: float, purge: float
                ) -> list[tuple[str, str, float]]:
    """(step, Trove's key, floor seconds since the grow started)."""
    return [('keys loaded (before grow)', 'load', load),
            ('ring converged (4 x 0x21)', 'ring', ring),
            ('all keys readable', 'read', ring + read),
            ('purge done / ACTIVE', 'active', ring + read + purge)]


def _print_rows(trove: dict[str, Any] | None,
                rows: list[tuple[str, str, float]], note: str) -> None:
    for what, key, low in rows:
        product = trove[key] if trove else None
        high = '-' if product is None else '%.1f' % product
        print('%-46s %9s %9.1f %12s' % (what + note, high, low,
                                      ratio(product, low)))


def show_grow(keys: int, trove: dict[str, Any] | None,
              hand: floor.Floor) -> None:
    """Trove next to the floor and their ratio: the load, then seconds
    since the grow started (the floor's read and purge run one after the
    other). When the floor hit merge hangs its figures include their
    recovery, and a second set without the time they cost follows."""
    print('\ngrow 3 -> 4 with %d keys; seconds (after the load: since the '
          'grow started)' % keys)
    print('%-46s %9s %9s %12s' % ('step', 'trove', 'floor', 'trove/floor'))
    _print_rows(trove, _floor_rows(hand.load, hand.ring, hand.read,
                                   hand.purge),
                ' (floor with recovery)' if hand.hung else '')
    if hand.hung:
        clean = _floor_rows(hand.load, hand.clean_ring, hand.read,
                            hand.clean_purge)
        _print_rows(trove, clean[1:], ' (floor hangs removed)')
        print('floor grow: %s' % hand.ring_hangs)
        print('floor purge: %s' % hand.purge_hangs)
    if trove:
        print('trove read-back: %s' % trove['report'])
    print('floor read-back: %s' % hand.report, flush=True)


def run_grow(state_dir: pathlib.Path, keys: int) -> int:
    """The floor, then the same grow through Trove on the rig; the floor
    runs the programs the rig's VMs run (the PATH they were booted with)."""
    data = dataset.DataSet.make(keys)
    path = state.rig_info(state_dir)['guest_path']
    binaries.show(path, 'rig VMs and floor')
    hand = floor_ns.measure(keys, path)
    floor.show(hand)
    trove = trove_grow(state_dir, data)
    show_grow(keys, trove, hand)
    return 0
