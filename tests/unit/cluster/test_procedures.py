"""Ring procedures against the in-memory ring simulator."""

from __future__ import annotations

import pytest

from tests.unit.cluster.fakering import FakeFleet
from tests.unit.cluster.fakering import Ring
from trove_k2hdkc.cluster import ringstate as rs
from trove_k2hdkc.cluster.procedures import GuestCallError
from trove_k2hdkc.cluster.procedures import Member
from trove_k2hdkc.cluster.procedures import NodeAccess
from trove_k2hdkc.cluster.procedures import ProcedureError
from trove_k2hdkc.cluster.procedures import Procedures
from trove_k2hdkc.cluster.procedures import StepTimeout
from trove_k2hdkc.cluster.procedures import Timing

ACCESS = NodeAccess('https://k2hr3.example.net', 'yrn:res', 'yrn:role',
                    'secret-role-token')


def members(ring, count, start=1, healthy=False):
    out = []
    for i in range(start, start + count):
        m = Member('inst-%d' % i, '10.0.0.%d' % i)
        ring.add(m.id, m.ip, healthy=healthy)
        out.append(m)
    return out


def procedures(ring, progress=None, **timing):
    timing.setdefault('status_timeout', 10)
    timing.setdefault('merge_timeout', 10)
    return Procedures(FakeFleet(ring), server_ctlport=8021,
                      timing=Timing(poll_interval=1, **timing),
                      progress=progress)


def healthy_ring(count):
    ring = Ring()
    old = members(ring, count, healthy=True)
    ring.k2hr3_hosts = [m.id for m in old]
    ring.listed_all()
    for m in old:
        ring.nodes[m.id].configured = ACCESS.kwargs()
    return ring, old


def test_bootstrap_brings_every_node_to_healthy():
    ring = Ring()
    nodes = members(ring, 3)
    ring.k2hr3_hosts = [m.id for m in nodes]
    procedures(ring).bootstrap(nodes, ACCESS)
    assert {n.code for n in ring.nodes.values()} == {rs.HEALTHY}
    for m in nodes:
        assert ring.nodes[m.id].configured == ACCESS.kwargs()
        assert ring.index(m.id, 'configure_node') < ring.index(
            m.id, 'start_node') < ring.index(m.id, 'service_in')
    assert ring.methods().count('merge') == 1
    assert ring.methods().count('complete_merge') == 1


def test_bootstrap_single_member():
    ring = Ring()
    nodes = members(ring, 1)
    ring.k2hr3_hosts = [nodes[0].id]
    procedures(ring).bootstrap(nodes, ACCESS)
    assert ring.nodes[nodes[0].id].code == rs.HEALTHY


def test_node_access_repr_hides_token():
    assert 'secret-role-token' not in repr(ACCESS)


def test_grow_follows_the_safe_procedure():
    ring, old = healthy_ring(3)
    new = members(ring, 1, start=4)
    ring.k2hr3_hosts.append(new[0].id)
    said = []
    procedures(ring, progress=said.append).grow(old, new, ACCESS)
    assert {n.code for n in ring.nodes.values()} == {rs.HEALTHY}
    x = new[0].id
    merge_at = ring.index(old[0].id, 'merge')
    for m in old:
        # every old node learns the new list before X starts ...
        assert ring.index(m.id, 'refresh_config') < ring.index(
            x, 'start_node')
        # ... and goes through Pending before the one MERGE
        assert ring.index(x, 'service_in') < ring.index(
            m.id, 'restart_k2hdkc') < merge_at
    assert ring.methods().count('merge') == 1
    # purge runs on every node, after the merge completed
    for m in old + new:
        assert ring.index(m.id, 'purge_node') > ring.index(
            old[0].id, 'complete_merge')
    starts = [t for t in said if t.startswith('outage-start')]
    ends = [t for t in said if t.startswith('outage-end')]
    assert len(starts) == len(ends) == 1


def test_grow_restarts_are_one_at_a_time():
    ring, old = healthy_ring(3)
    new = members(ring, 1, start=4)
    ring.k2hr3_hosts.append(new[0].id)
    procedures(ring).grow(old, new, ACCESS)
    restarts = [i for i, (_, m, _) in enumerate(ring.calls)
                if m == 'restart_k2hdkc']
    # a status poll sits between consecutive restarts
    for a, b in zip(restarts, restarts[1:], strict=False):
        assert any(m == 'node_status' for _, m, _ in ring.calls[a:b])


def test_grow_times_out_when_new_node_is_not_listed():
    ring, old = healthy_ring(2)
    new = members(ring, 1, start=3)   # not registered in K2HR3
    with pytest.raises(StepTimeout) as err:
        procedures(ring).grow(old, new, ACCESS)
    assert 'new nodes listed' in str(err.value)
    assert ring.nodes[new[0].id].running is False


def test_guest_failure_mid_grow_names_the_step_and_node():
    ring, old = healthy_ring(3)
    new = members(ring, 1, start=4)
    ring.k2hr3_hosts.append(new[0].id)
    ring.faults[(old[1].id, 'restart_k2hdkc')] = TimeoutError('rpc timeout')
    with pytest.raises(GuestCallError) as err:
        procedures(ring).grow(old, new, ACCESS)
    assert old[1].id in err.value.failures
    assert 'restart k2hdkc' in err.value.step
    assert 'merge' not in ring.methods()
    assert rs.HEALTHY != ring.nodes[new[0].id].code


def test_require_healthy_refuses_a_degraded_ring():
    ring, old = healthy_ring(3)
    ring.nodes[old[2].id].code = rs.PENDING
    with pytest.raises(ProcedureError) as err:
        procedures(ring).require_healthy(old)
    assert old[2].id in str(err.value) and '0x1021' in str(err.value)


def test_shrink_ring_and_finish():
    ring, nodes = healthy_ring(4)
    remaining, leaving = nodes[:3], nodes[3:]
    procs = procedures(ring)
    procs.shrink_ring(remaining, leaving)
    x = leaving[0]
    assert ring.nodes[x.id].running is False
    out = [c for c in ring.calls if c[1] == 'service_out']
    assert out == [(remaining[0].id, 'service_out',
                    {'server': x.ip, 'ctlport': 8021,
                     'custom_id_seed': x.id})]
    for m in remaining:
        assert ring.index(m.id, 'restart_k2hdkc') < ring.index(
            remaining[0].id, 'merge')
    assert ring.index(remaining[0].id, 'complete_merge') < ring.index(
        x.id, 'stop_node')
    ring.k2hr3_hosts.remove(x.id)
    procs.shrink_finish(remaining, leaving)
    for m in remaining:
        assert ring.nodes[m.id].code == rs.HEALTHY
        assert x.id not in ring.nodes[m.id].listed
        assert 'purge_node' in ring.methods(m.id)


def test_shrink_finish_times_out_if_k2hr3_still_lists_leaver():
    ring, nodes = healthy_ring(3)
    procs = procedures(ring)
    procs.shrink_ring(nodes[:2], nodes[2:])
    with pytest.raises(StepTimeout) as err:
        procs.shrink_finish(nodes[:2], nodes[2:])
    assert 'leavers unlisted' in str(err.value)


def test_hung_merge_is_aborted_and_retried_once():
    ring, nodes = healthy_ring(3)
    ring.merge_hangs = 1
    procedures(ring).shrink_ring(nodes[:2], nodes[2:])
    assert ring.methods().count('abort_merge') == 1
    assert ring.methods().count('merge') == 2
    # ABORTMERGE cancels the SERVICEOUT, so it is sent again
    assert ring.methods().count('service_out') == 2
    assert ring.nodes[nodes[2].id].running is False


def test_merge_that_hangs_twice_fails_clearly():
    ring, old = healthy_ring(2)
    new = members(ring, 1, start=3)
    ring.k2hr3_hosts.append(new[0].id)
    ring.merge_hangs = 2
    with pytest.raises(StepTimeout) as err:
        procedures(ring).grow(old, new, ACCESS)
    assert 'retry' in str(err.value)
    assert 'complete_merge' not in ring.methods()
