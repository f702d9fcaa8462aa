"""The fault matrix's ``agent`` column on the ring simulator (issue 11
item 3): the guest agent of the member an RPC of a grow 3 -> 4 or a
shrink 3 -> 2 goes to is killed, before the call is handled or after it
took effect (its reply lost), and answers no status poll for a while
after, at every RPC of the operation. Whatever the point, the operation
ends with every member in the ring 0x21 and no member in an error
status: the step fails, and the rules of doc/ring-procedures.md §11 (or
the undo of a grow before SERVICEIN, §3) finish or undo it."""

from __future__ import annotations

import pytest

from tests.unit.cluster.test_taskmanager import cleared  # noqa: F401
from tests.unit.cluster.test_taskmanager import fault_messages
from tests.unit.cluster.test_taskmanager import faults  # noqa: F401
from tests.unit.cluster.test_taskmanager import k2hdkc_opts  # noqa: F401
from tests.unit.cluster.test_vm_lost_matrix import CALLS
from tests.unit.cluster.test_vm_lost_matrix import run_operation
from trove_k2hdkc.cluster import ringstate as rs

# status polls the restarted agent misses
AWAY = 5


def _operate(op, after, handled):
    sent = []

    def kill_agent(ring, call):
        def agent_killed(node_id, method, **kwargs):
            if method == 'node_status':
                return call(node_id, method, **kwargs)
            sent.append((node_id, method))
            if len(sent) != after:
                return call(node_id, method, **kwargs)
            if handled:
                call(node_id, method, **kwargs)
            ring.silent[node_id] = AWAY
            raise TimeoutError('%s: the guest agent was killed' % method)
        return agent_killed
    ring, tasks = run_operation(op, kill_agent, None)
    return ring, tasks, sent


@pytest.mark.parametrize('handled', [False, True],
                         ids=['before-the-call', 'reply-lost'])
@pytest.mark.parametrize('op', sorted(CALLS))
def test_an_agent_killed_at_any_step_ends_serving(
        op, handled, faults, trove_db):  # noqa: F811
    for after in range(1, CALLS[op] + 1):
        faults.reset_mock()
        ring, tasks, sent = _operate(op, after, handled)
        where = 'agent killed at %s' % (sent[after - 1],)
        tasks.update_statuses_on_failure.assert_not_called()
        ring.silent.clear()
        # the old or the new topology: 3 or 4 members after a grow, 3 or
        # 2 after a shrink
        live = [i for i, n in ring.nodes.items()
                if n.running and rs.in_ring(n.code)]
        assert len(live) in ((3, 4) if op == 'grow' else (2, 3)), (
            where, ring.nodes)
        for i in live:
            assert ring.nodes[i].code == rs.HEALTHY, (where, ring.nodes)
            view = {e['custom_id_seed']: rs.as_code(e['status']['code'])
                    for e in ring.call(i, 'node_status')['ring']}
            assert all(view[j] == rs.HEALTHY for j in live), (where, view)
        text = fault_messages(faults).get('inst-1', '')
        assert ('serving with' in text or 'undone' in text
                or 'the guest agent was killed' not in text), (where, text)
