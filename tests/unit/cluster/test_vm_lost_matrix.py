"""The fault matrix's ``vm-gone`` column on the ring simulator (issue 11
item 3): a member's VM is lost right after each RPC that a grow 3 -> 4
or a shrink 3 -> 2 sends (so at every step: K2HR3 aside, configure,
start, SERVICEIN/SERVICEOUT, each k2hdkc restart, MERGE, COMPMERGE,
each purge, stop, config refresh), for each role it can hit: the new
member, an existing one, the leaver, a member that stays. Whatever the
point, the operation ends with a ring that serves: every live member
in it 0x21 in every view, the lost member out of it, no member left in
an error status but the lost one when it stays listed, and a fault
that says how the cluster ended (doc/ring-procedures.md §3, §4, §11)."""

from __future__ import annotations

from unittest import mock

import pytest
from trove.instance.tasks import InstanceTasks

from tests.unit.cluster.test_taskmanager import CLUSTER
from tests.unit.cluster.test_taskmanager import FakeRegistry
from tests.unit.cluster.test_taskmanager import cleared  # noqa: F401
from tests.unit.cluster.test_taskmanager import fault_messages
from tests.unit.cluster.test_taskmanager import faults  # noqa: F401
from tests.unit.cluster.test_taskmanager import fresh_ring
from tests.unit.cluster.test_taskmanager import healthy
from tests.unit.cluster.test_taskmanager import k2hdkc_opts  # noqa: F401
from tests.unit.cluster.test_taskmanager import make_tasks
from trove_k2hdkc.cluster import ringstate as rs

# (operation, the member whose VM is lost, its role)
CASES = [('grow', 'inst-4', 'new'), ('grow', 'inst-2', 'existing'),
         ('shrink', 'inst-3', 'leaver'), ('shrink', 'inst-2', 'stays')]
# RPCs (not counting status polls) a grow 3 -> 4 / shrink 3 -> 2 sends
# when nothing fails; the VM is lost after each of them up to the one
# before the last purge_finish (the grow's cluster_complete follows it):
# after that the ring's work is over, and a member lost then is a dead
# member that leaves by shrink (§4)
CALLS = {'grow': 28, 'shrink': 16}
LAST = {'grow': CALLS['grow'] - 2, 'shrink': CALLS['shrink'] - 1}


def run_operation(op, hook, trouble):
    """A grow 3 -> 4 or a shrink 3 -> 2 on a healthy simulated ring, every
    RPC going through ``hook(ring, call)``'s replacement of ``ring.call``;
    returns the ring (its own ``call`` back) and the tasks."""
    ring = fresh_ring(3)
    healthy(ring)
    if op == 'grow':
        ring.add('inst-4', '10.0.0.4')
    tasks = make_tasks(ring, FakeRegistry(ring), list(ring.nodes))
    tasks.server_trouble = lambda ctx, i: trouble
    call = ring.call
    ring.call = hook(ring, call)
    if op == 'grow':
        tasks.grow_cluster(mock.Mock(), CLUSTER, ['inst-4'])
    else:
        tasks.shrink_cluster(mock.Mock(), CLUSTER, ['inst-3'])
    ring.call = call
    return ring, tasks


def _operate(op, victim, after):
    sent = []

    def lose_after(ring, call):
        def lost_after(node_id, method, **kwargs):
            reply = call(node_id, method, **kwargs)
            if method != 'node_status':
                sent.append((node_id, method))
                if len(sent) == after:
                    ring.kill(victim)
            return reply
        return lost_after
    ring, tasks = run_operation(op, lose_after, 'its Nova server is ERROR')
    return ring, tasks, sent


def test_the_counted_calls_are_those_of_an_operation_without_fault(
        faults, trove_db):  # noqa: F811
    for op in CALLS:
        _, tasks, sent = _operate(op, 'inst-1', after=0)
        tasks.update_statuses_on_failure.assert_not_called()
        assert len(sent) == CALLS[op], sent
        assert sent[LAST[op]][1] == 'purge_finish', sent


@pytest.mark.parametrize('op, victim, role', CASES,
                         ids=['%s-%s' % (c[0], c[2]) for c in CASES])
def test_a_vm_lost_at_any_step_ends_serving(
        op, victim, role, faults, trove_db):  # noqa: F811
    for after in range(1, LAST[op] + 1):
        faults.reset_mock()
        ring, tasks, sent = _operate(op, victim, after)
        where = '%s lost after %s' % (victim, sent[after - 1])
        assert ring.nodes[victim].dead, where
        tasks.update_statuses_on_failure.assert_not_called()
        live = [i for i, n in ring.nodes.items()
                if n.running and not n.dead and i in ring.k2hr3_hosts]
        assert live and all(ring.nodes[i].code == rs.HEALTHY
                            for i in live), (where, ring.nodes)
        text = fault_messages(faults).get('inst-1', '')
        # lost before the grow touched the ring: the grow is undone and
        # the ring is the old one, with a dead member to shrink (§4)
        undone = 'undone' in text
        for i in live:
            view = {e['custom_id_seed']: rs.as_code(e['status']['code'])
                    for e in ring.call(i, 'node_status')['ring']}
            assert all(view[j] == rs.HEALTHY for j in live), (where, view)
            out = {None, rs.SERVICE_OUT_DOWN}
            if undone and role == 'existing':
                out = {rs.SERVICE_IN_DOWN}
                assert 'but for %s, lost during the grow' % victim in text
            assert view.get(victim) in out, (where, view)
        errors = {i for i, m, v in ring.calls if m == 'db' and v.get(
            'task_status') in (InstanceTasks.GROWING_ERROR,
                               InstanceTasks.SHRINKING_ERROR)}
        # a lost member nobody asked to remove stays listed, in error
        assert errors <= ({victim} if role in ('existing', 'stays')
                          else set()), where
        assert not text or 'serving with' in text or 'undone' in text, (
            where, text)
