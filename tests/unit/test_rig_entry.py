"""The rig's entry point as the README documents it: ``tox -e demo``,
``tox -e demo -- --keep`` and ``tox -e demo -- down``, and the demo's
member table."""

from __future__ import annotations

import sys

import pytest

from tests.rig import __main__ as entry
from tests.rig import demo


@pytest.fixture
def no_rig(monkeypatch):
    """Record what main() would do instead of starting a rig."""
    calls = []
    monkeypatch.setattr(entry.launcher, 'up',
                        lambda settings: calls.append('up') or {})
    monkeypatch.setattr(entry.launcher, 'down',
                        lambda *a, **k: calls.append('down'))
    monkeypatch.setattr(entry.demo, 'run',
                        lambda state_dir: calls.append('demo') or 0)
    return calls


def test_no_action_is_the_demo_and_keep_prints_a_working_down(
        no_rig, monkeypatch, capsys):
    monkeypatch.setenv('TOX_ENV_NAME', 'demo')
    assert entry.main(['--keep']) == 0
    assert no_rig == ['up', 'demo']
    assert capsys.readouterr().out.rstrip().endswith(
        '&& python3 -m tox -e demo -- down')


def test_down_hint_without_tox_uses_this_interpreter(monkeypatch):
    monkeypatch.delenv('TOX_ENV_NAME', raising=False)
    assert entry.rig_command('down').endswith(
        '&& %s -m tests.rig down' % sys.executable)


def test_demo_without_keep_stops_the_rig(no_rig):
    assert entry.main([]) == 0
    assert no_rig == ['up', 'demo', 'down']


def test_member_table_shows_status_and_ring_state():
    members = [{'id': 'b', 'name': 'c1-member-2', 'ip': '10.0.0.3',
                'status': 'ACTIVE'},
               {'id': 'a', 'name': 'c1-member-1', 'ip': '10.0.0.2',
                'status': 'ACTIVE'}]
    rings = {'a': {'code': '0x21',
                   'status': '[SERVICE IN][UP][n/a][Nothing][NoSuspend]'},
             'b': None}
    healthy = '[SERVICE IN][UP][n/a][Nothing][NoSuspend]'
    lines = demo.member_table(members, rings).splitlines()
    assert lines[0].split('  ')[0] == 'member'
    assert lines[1].startswith('c1-member-1')
    assert lines[1].endswith('0x21       ' + healthy)
    assert lines[2].split() == ['c1-member-2', '10.0.0.3', 'ACTIVE', '-',
                                '-']
    for line in lines[1:]:
        assert line.index('ACTIVE') == lines[0].index('status')
    assert lines[1].index('0x21') == lines[0].index('ring code')
