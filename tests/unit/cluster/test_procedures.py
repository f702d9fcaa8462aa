"""Ring procedures against the in-memory ring simulator."""

from __future__ import annotations

import pytest

from tests.unit.cluster.fakering import FakeFleet
from tests.unit.cluster.fakering import Ring
from trove_k2hdkc.cluster import ringstate as rs
from trove_k2hdkc.cluster import watchdog
from trove_k2hdkc.cluster.procedures import GuestCallError
from trove_k2hdkc.cluster.procedures import Member
from trove_k2hdkc.cluster.procedures import ProcedureError
from trove_k2hdkc.cluster.procedures import Procedures
from trove_k2hdkc.cluster.procedures import StepTimeout
from trove_k2hdkc.cluster.procedures import Timing
from trove_k2hdkc.cluster.procedures import unhealthy
from trove_k2hdkc.k2hr3.access import NodeAccess

ACCESS = NodeAccess('https://k2hr3.example.net', 'yrn:res', 'yrn:role',
                    'secret-role-token')


def members(ring, count, start=1, healthy=False):
    out = []
    for i in range(start, start + count):
        m = Member('inst-%d' % i, '10.0.0.%d' % i)
        ring.add(m.id, m.ip, healthy=healthy)
        out.append(m)
    return out


def procedures(ring, progress=None, outage=None, **timing):
    timing.setdefault('status_timeout', 10)
    timing.setdefault('merge_timeout', 10)
    return Procedures(FakeFleet(ring), server_ctlport=8021,
                      timing=Timing(poll_interval=1, **timing),
                      progress=progress, outage=outage)


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
    methods = ring.methods()
    assert methods[:methods.index('complete_merge')].count('merge') == 1
    # purge runs on every node, after the merge completed, each with a
    # merge of its own
    for m in old + new:
        assert ring.index(m.id, 'purge_prepare') > ring.index(
            old[0].id, 'complete_merge')
    assert methods.count('merge') == 1 + len(old + new)
    starts = [t for t in said if t.startswith('outage-start')]
    ends = [t for t in said if t.startswith('outage-end')]
    assert len(starts) == len(ends) == 1


def test_outage_hook_brackets_the_merge_instead_of_progress_text():
    """The taskmanager learns of the outage from a hook, not by
    comparing progress text (issue #15)."""
    ring, old = healthy_ring(3)
    new = members(ring, 1, start=4)
    ring.k2hr3_hosts.append(new[0].id)
    heard = []
    procedures(ring, progress=lambda text: heard.append(text),
               outage=lambda started: heard.append(started)).grow(
        old, new, ACCESS)
    hooks = [i for i, item in enumerate(heard) if isinstance(item, bool)]
    assert [heard[i] for i in hooks] == [True, False]
    merging = heard[hooks[0]:hooks[1]]
    assert any('merge' in str(item) for item in merging)
    assert not any(str(item).startswith('outage-') for item in heard)


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


def _reply(own, views):
    """A node_status reply: its own code and its view of each member."""
    return {'self': {'status': {'code': hex(own)}},
            'ring': [{'custom_id_seed': mid, 'name': mid,
                      'status': {'code': hex(code)}}
                     for mid, code in views.items()]}


def test_unhealthy_judges_own_status_and_with_views_the_peers():
    """The one rule behind grow's and shrink's health checks: own code
    in ``allowed``; with ``views``, every peer's view of it too."""
    a, b, c = (Member(i, i) for i in 'abc')
    replies = {'a': _reply(rs.HEALTHY, {'a': rs.HEALTHY, 'b': rs.PENDING}),
               'b': _reply(rs.HEALTHY, {'a': rs.HEALTHY, 'b': rs.HEALTHY})}
    silent = {'c': 'timed out'}
    assert unhealthy([a, b, c], replies, silent) == {
        'c': 'no answer: timed out'}
    assert unhealthy([a, b], replies, {}, views=True) == {
        'b': 'seen as 0x1021'}
    assert unhealthy([a, b], replies, {}, frozenset({rs.PENDING})) == {
        'a': '0x21', 'b': '0x21'}
    assert unhealthy([a, b], replies, {},
                     frozenset({rs.HEALTHY, rs.PENDING}), views=True) == {}


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
        assert 'purge_finish' in ring.methods(m.id)


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


def test_stuck_responder_is_restarted_after_the_second_hang():
    ring, old = healthy_ring(3)
    new = members(ring, 1, start=4)
    ring.k2hr3_hosts.append(new[0].id)
    stuck = old[1].id
    ring.stuck = {stuck}
    procedures(ring).grow(old, new, ACCESS)
    assert {n.code for n in ring.nodes.values()} == {rs.HEALTHY}
    calls = ring.calls[:ring.index(old[0].id, 'complete_merge')]
    assert [m for _, m, _ in calls].count('merge') == 3
    aborts = [i for i, (n, m, _) in enumerate(calls) if m == 'abort_merge']
    assert len(aborts) == 2
    # never via the stuck node (there ABORTMERGE does nothing)
    assert all(calls[i][0] != stuck for i in aborts)
    restarts = [(i, n) for i, (n, m, _) in enumerate(calls)
                if m == 'restart_k2hdkc' and i > aborts[-1]]
    assert [n for _, n in restarts] == [stuck]
    last_merge = max(i for i, (_, m, _) in enumerate(calls) if m == 'merge')
    assert restarts[0][0] < last_merge


def test_unidentified_hang_restarts_all_but_the_merge_sender():
    ring, nodes = healthy_ring(3)
    remaining, leaving = nodes[:2], nodes[2:]
    ring.merge_hangs = 2   # everyone in Doing: no responder stands out
    procedures(ring).shrink_ring(remaining, leaving)
    aborts = [i for i, (_, m, _) in enumerate(ring.calls)
              if m == 'abort_merge']
    sender = ring.calls[aborts[-1]][0]
    restarted = {n for n, m, _ in ring.calls[aborts[-1]:]
                 if m == 'restart_k2hdkc'}
    assert restarted == {m.id for m in nodes} - {sender}
    # each ABORTMERGE cancelled the SERVICEOUT, so it was sent again
    assert ring.methods().count('service_out') == 3
    assert ring.nodes[leaving[0].id].running is False
    for m in remaining:
        assert ring.nodes[m.id].code == rs.HEALTHY


def test_merge_that_hangs_three_times_fails_clearly():
    ring, old = healthy_ring(2)
    new = members(ring, 1, start=3)
    ring.k2hr3_hosts.append(new[0].id)
    ring.merge_hangs = 3
    with pytest.raises(StepTimeout) as err:
        procedures(ring).grow(old, new, ACCESS)
    text = str(err.value)
    assert 'grow: merge (after restarting' in text
    assert '0x2021' in text and '0x2121' in text
    assert ring.methods().count('merge') == 3
    assert 'complete_merge' not in ring.methods()


def test_stuck_responders_are_the_done_nodes_among_doing_ones():
    codes = {'a': 0x2021, 'b': rs.DONE, 'c': 0x2121, 'd': rs.ADD_DONE}
    assert watchdog.stuck_responders(codes, sender='a') == ['b', 'd']
    codes = {'a': 0x2021, 'b': 0x2021, 'c': None}
    assert watchdog.stuck_responders(codes, sender='a') == ['b', 'c']


# -- guests that do not answer a status poll ----------------------------

def test_guest_that_misses_status_polls_does_not_fail_a_grow():
    ring, old = healthy_ring(3)
    new = members(ring, 1, start=4)
    ring.k2hr3_hosts.append(new[0].id)
    ring.silent[old[1].id] = 3
    procedures(ring).grow(old, new, ACCESS)
    assert ring.silent[old[1].id] == 0
    assert {n.code for n in ring.nodes.values()} == {rs.HEALTHY}


def test_silent_guest_is_named_when_the_wait_times_out():
    ring, old = healthy_ring(2)
    ring.silent[old[1].id] = 10 ** 6
    with pytest.raises(StepTimeout) as err:
        procedures(ring).wait_self('a step', {m.id: frozenset({rs.HEALTHY})
                                              for m in old})
    assert 'a step' in str(err.value)
    assert '%s no answer: TimeoutError' % old[1].id in str(err.value)
    assert old[0].id not in str(err.value)


def test_require_healthy_waits_for_a_briefly_silent_guest():
    ring, old = healthy_ring(3)
    ring.silent[old[2].id] = 2
    procedures(ring).require_healthy(old)
    assert ring.silent[old[2].id] == 0


# -- rolling restart and upgrade ------------------------------------------

def mark(ring, what):
    """begin/end hooks that show up in ring.calls, in order."""
    return lambda m: ring.calls.append((m.id, what, {}))


def test_rolling_restart_one_member_at_a_time():
    ring, nodes = healthy_ring(3)
    procedures(ring).rolling_restart(nodes, begin=mark(ring, 'begin'),
                                     end=mark(ring, 'end'))
    # the guest returns at [Pending]; the merge back goes via that node
    assert [(n, m) for n, m, _ in ring.calls if m != 'node_status'] == [
        (m.id, step) for m in nodes for step in (
            'begin', 'restart_node', 'merge', 'complete_merge', 'end')]
    # every member saw the restarted one back before the next went
    assert not any(ring._lagging(m.id) for m in nodes)


def test_rolling_restart_refuses_an_unhealthy_ring():
    ring, nodes = healthy_ring(3)
    ring.nodes[nodes[1].id].code = rs.SERVICE_IN_DOWN
    with pytest.raises(StepTimeout) as err:
        procedures(ring).rolling_restart(nodes)
    assert 'not every node is healthy' in str(err.value)
    assert '0x20' in str(err.value)
    assert ring.methods() == []


def test_rolling_restart_stops_at_the_failing_member():
    ring, nodes = healthy_ring(3)
    ring.faults[(nodes[1].id, 'restart_node')] = TimeoutError('rpc timeout')
    with pytest.raises(GuestCallError) as err:
        procedures(ring).rolling_restart(nodes, begin=mark(ring, 'begin'),
                                         end=mark(ring, 'end'))
    assert 'restart %s' % nodes[1].id in err.value.step
    assert ring.methods(nodes[1].id) == ['begin', 'restart_node']
    assert ring.methods(nodes[2].id) == []


def test_rolling_upgrade_passes_the_version_member_by_member():
    ring, nodes = healthy_ring(3)
    procedures(ring).rolling_upgrade(nodes, '1.0.47',
                                     begin=mark(ring, 'begin'),
                                     end=mark(ring, 'end'))
    assert ring.methods() == [
        step for m in nodes for step in (
            'begin', 'pre_upgrade', 'upgrade', 'merge', 'complete_merge',
            'end')]
    sent = [kwargs for _, m, kwargs in ring.calls if m == 'upgrade']
    assert sent == [{'upgrade_info': {
        'from': None, 'datastore_version': '1.0.47', 'rejoin': False}}] * 3
    assert {n.version for n in ring.nodes.values()} == {'1.0.47'}


def test_a_lone_member_is_never_purged():
    """doc/ring-procedures.md §5: the refill pulls a member's range from
    its peers; a lone member has none, so a purge would start it on an
    empty file and drop the old one: every key gone (the fault matrix
    cell shrink:restart vm-gone@existing ended with one member and 0/180
    keys readable)."""
    ring, old = healthy_ring(1)
    said = []
    procedures(ring, progress=said.append).purge(old)
    assert ring.methods() == []
    assert any('only member' in text for text in said)


def test_shrink_to_one_member_does_not_purge_it():
    ring, old = healthy_ring(2)
    procs = procedures(ring)
    procs.shrink_ring(old[:1], old[1:])
    ring.k2hr3_hosts.remove(old[1].id)
    procs.shrink_finish(old[:1], old[1:])
    assert ring.nodes[old[0].id].code == rs.HEALTHY
    assert 'purge_prepare' not in ring.methods(old[0].id)
