"""doc/guest-rpc.md §2 lists every guest RPC the control plane sends.

An RPC added to ``cluster/guestagent.py`` or called by the procedures
without a row in that table fails here, and so does a row for a method
the guest Manager does not have.
"""

from __future__ import annotations

import ast
import re

import pytest

from tests.conftest import REPO_ROOT
from tests.unit.cluster.test_guest_contract import STUBS
from tests.unit.cluster.test_guest_contract import sent

DOC = REPO_ROOT / 'doc' / 'guest-rpc.md'
CLUSTER = REPO_ROOT / 'trove_k2hdkc' / 'cluster'

#: Fleet and procedure helpers, and where their RPC method name goes.
_METHOD_ARG = {'_one': 2, '_all': 2, 'judged': 2, 'call': 1, 'call_all': 1}


def documented() -> dict[str, str]:
    """Method name -> its arguments cell, from the table of §2."""
    text = DOC.read_text()
    section = text.split('## §2', 1)[1].split('\n## ', 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if not line.startswith('| `') or len(cells) < 4:
            continue
        for name in re.findall(r'`(\w+)`', cells[0]):
            rows[name] = cells[1]
    return rows


def procedure_calls() -> set[str]:
    """RPC names the cluster code passes, as literals, to the fleet."""
    found = set()
    for path in sorted(CLUSTER.glob('*.py')):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)):
                continue
            index = _METHOD_ARG.get(node.func.attr)
            if index is None or len(node.args) <= index:
                continue
            arg = node.args[index]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(arg.value)
    return found


def test_the_table_is_read() -> None:
    assert {'configure_node', 'merge', 'abort_merge'} <= set(documented())


def test_the_scan_sees_the_procedures_calls() -> None:
    assert {'purge_prepare', 'restart_node', 'pre_upgrade',
            'node_status', 'merge'} <= procedure_calls()


@pytest.mark.parametrize('name', STUBS)
def test_every_stub_is_documented_with_its_arguments(name: str) -> None:
    method, kwargs = sent(name)
    rows = documented()
    assert method in rows, 'doc/guest-rpc.md §2 lacks %s' % method
    missing = {k for k in kwargs if '`%s`' % k not in rows[method]}
    assert not missing, 'doc/guest-rpc.md §2 row %s lacks %s' % (
        method, sorted(missing))


def test_every_procedure_call_is_documented() -> None:
    assert procedure_calls() - set(documented()) == set()


def test_every_documented_method_exists_on_the_guest() -> None:
    from trove_k2hdkc.guest.manager import Manager
    assert [n for n in documented()
            if not callable(getattr(Manager, n, None))] == []
