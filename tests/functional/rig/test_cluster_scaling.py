"""``openstack database cluster grow|shrink`` keep every key, end to end.

A 3-member cluster through the real Trove services and the product's
procedures; a user's client node (CHMPX slave registered in the
cluster's K2HR3 slave role, INI rendered by K2HR3) writes N keys with
``k2hdkclinetool`` and deletes some; grow 3 -> 4 and shrink 4 -> 3 must
leave every live key readable with its value and no deleted key back.
One test: a cluster takes about a minute per step on two cores.
"""

from __future__ import annotations

import pytest

from tests.rig import cluster
from tests.rig import slave

pytestmark = pytest.mark.rig

N_KEYS = 2000
DELETED_EVERY = 10
HEALTHY_CODE = 0x21


def _ring_of_every_member(info, cluster_id):
    """{member ip: sorted [(server ip, status code)]}, asked of every
    member's chmpx."""
    members = cluster.instances(info, cluster_id)
    return members, {m['ip']: sorted(
        (s.server_name, s.status.code)
        for s in cluster.all_status(m['ip']).servers) for m in members}


def _assert_ring(info, cluster_id, count):
    members, rings = _ring_of_every_member(info, cluster_id)
    ips = sorted(m['ip'] for m in members)
    assert len(ips) == count
    want = [(ip, HEALTHY_CODE) for ip in ips]
    assert rings == dict.fromkeys(ips, want)
    return members


def test_grow_and_shrink_keep_data(trove_rig):
    info = trove_rig.info
    cid = cluster.create(info, 'scale', 3)['id']
    keys = {'scale-key-%05d' % i: 'value-%05d' % i for i in range(N_KEYS)}
    deleted = sorted(keys)[::DELETED_EVERY]
    expected = {k: (None if k in deleted else v) for k, v in keys.items()}
    with slave.RigSlave(info, cid, trove_rig.state_dir / 'slave') as client:
        # Before the members fetch their first INI, so they list it.
        client.register()
        cluster.wait_active(info, cid)
        members = _assert_ring(info, cid, 3)
        client.start()
        client.wait_ring([m['ip'] for m in members])

        client.run(['set %s %s' % kv for kv in keys.items()]
                   + ['rm %s' % k for k in deleted])
        assert client.values(list(keys)) == expected

        cluster.grow(info, cid)
        cluster.wait_active(info, cid, timeout=600)
        grown = _assert_ring(info, cid, 4)
        client.refresh()
        client.wait_ring([m['ip'] for m in grown])
        assert client.values(list(keys)) == expected

        # An original member leaves: its keys must move, not vanish.
        leaver = members[0]
        cluster.shrink(info, cid, leaver['id'])
        cluster.wait_active(info, cid, timeout=600)
        shrunk = _assert_ring(info, cid, 3)
        assert leaver['id'] not in {m['id'] for m in shrunk}
        client.refresh()
        client.wait_ring([m['ip'] for m in shrunk])
        assert client.values(list(keys)) == expected

    trove_rig.openstack('database', 'cluster', 'delete', cid, parse=False)
    cluster.wait_gone(info, cid)
