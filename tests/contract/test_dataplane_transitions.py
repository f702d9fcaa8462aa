"""Contract: captured chmpx status transitions of a 4-node ring."""

from __future__ import annotations

import pytest

from tests.contract import dataplane_norm as norm
from tests.standins.dataplane import harness

CP = 'chmpx/control_port'
NOT_ALLOWED = ('ERROR: Could not change status, because status is not '
               'allowed.\n')


def _same(got: str, reference_dir, rel: str) -> None:
    want = (reference_dir / CP / rel).read_text()
    assert norm.normalise(got) == norm.normalise(want)


def _converges(ring, num, cmd: str, reference_dir, rel: str) -> None:
    """Views of other nodes converge within a gossip tick or two."""
    want = norm.normalise((reference_dir / CP / rel).read_text())
    try:
        harness.wait_for(lambda: norm.normalise(ring.ctl(num, cmd)) == want,
                         5, rel)
    except AssertionError:
        _same(ring.ctl(num, cmd), reference_dir, rel)


@pytest.fixture(scope='module')
def ring4(tmp_path_factory):
    with harness.LocalRing(tmp_path_factory.mktemp('dp4'), servers=4) as rg:
        rg.bootstrap(3)
        rg.write_configs([1, 2, 3, 4], automerge=True)
        rg.wait_all([0x21, 0x21, 0x21, 0x10], via=1)
        rg.start_node(4)
        rg.wait_all([0x21] * 4, via='slave')
        rg.wait_all([0x21] * 4, via=1)
        yield rg


def test_scaleout_automerge_reaches_healthy(ring4, reference_dir):
    _converges(ring4, 1, 'ALLSTATUS', reference_dir,
          'healthy_4nodes/node1_ALLSTATUS.txt')
    _converges(ring4, 4, 'SELFSTATUS', reference_dir,
          'healthy_4nodes/node4_SELFSTATUS.txt')


def test_scalein_serviceout_automerge(ring4, reference_dir):
    node = ring4.nodes[3]
    arg = '127.0.0.1:%d:%s' % (node['ctlport'], node['seed'])
    _same(ring4.ctl(1, 'SERVICEOUT ' + arg), reference_dir,
          'scalein_node4_serviceout_automerge/node1_SERVICEOUT_node4.txt')
    ring4.wait_all([0x21, 0x21, 0x21, 0x11], via=1)
    _converges(ring4, 1, 'ALLSTATUS', reference_dir,
          'scalein_node4_serviceout_automerge/009_node1_ALLSTATUS.txt')


def test_scaleout_manual_suspended(ring4, reference_dir):
    scen = 'scaleout_node4_manual_suspended/'
    ring4.wait_all([0x21, 0x21, 0x21, 0x11], via=1)
    assert ring4.ctl(1, 'SUSPENDMERGE') == 'SUCCEED\n'
    assert ring4.ctl(4, 'SERVICEIN') == 'SUCCEED\n'
    ring4.wait_self(4, 0x1121)
    _converges(ring4, 4, 'SELFSTATUS', reference_dir,
          scen + '03_node4_SELFSTATUS_pending.txt')
    assert ring4.ctl(4, 'SERVICEIN') == NOT_ALLOWED
    assert ring4.ctl(1, 'ABORTMERGE') == 'SUCCEED\n'
    _converges(ring4, 1, 'ALLSTATUS', reference_dir,
          scen + '07_node1_ALLSTATUS_after_ABORTMERGE.txt')
    assert ring4.ctl(1, 'MERGE') == 'SUCCEED\n'
    ring4.wait_self(4, 0x3121)
    _converges(ring4, 1, 'ALLSTATUS', reference_dir,
          scen + '10_node1_ALLSTATUS_done.txt')
    node = ring4.nodes[3]
    _same(ring4.ctl(4, 'SERVICEOUT 127.0.0.1:%d:%s' % (
        node['ctlport'], node['seed'])), reference_dir,
        scen + '11_node4_SERVICEOUT_self_while_done.txt')
    assert ring4.ctl(1, 'COMPMERGE') == 'SUCCEED\n'
    ring4.wait_all([0x21] * 4, via=1)
    _converges(ring4, 4, 'SELFSTATUS', reference_dir,
          scen + '14_node4_SELFSTATUS_after_COMPMERGE.txt')
    assert ring4.ctl(1, 'NOSUSPENDMERGE') == 'SUCCEED\n'


def test_scalein_manual_abort_quirks(ring4, reference_dir):
    scen = 'scalein_node4_manual_abort/'
    ring4.wait_all([0x21] * 4, via=1)
    node = ring4.nodes[3]
    arg = 'SERVICEOUT 127.0.0.1:%d:%s' % (node['ctlport'], node['seed'])
    assert ring4.ctl(1, 'SUSPENDMERGE') == 'SUCCEED\n'
    assert ring4.ctl(1, arg) == 'SUCCEED\n'
    ring4.wait_self(4, 0x1221)
    _converges(ring4, 4, 'SELFSTATUS', reference_dir,
          scen + '03_node4_SELFSTATUS_delete_pending.txt')
    assert ring4.ctl(1, 'MERGE') == 'SUCCEED\n'
    assert ring4.ctl(1, 'ABORTMERGE') == 'SUCCEED\n'
    ring4.wait_self(4, 0x1021)
    _converges(ring4, 4, 'SELFSTATUS', reference_dir,
          scen + '07_node4_SELFSTATUS_after_abort.txt')
    assert ring4.ctl(1, 'COMPMERGE') == 'SUCCEED\n'
    ring4.wait_self(4, 0x3021)
    _converges(ring4, 4, 'SELFSTATUS', reference_dir,
          scen + '09_node4_SELFSTATUS_after_COMPMERGE.txt')
    assert ring4.ctl(1, 'COMPMERGE') == 'SUCCEED\n'
    ring4.wait_self(4, 0x21)
    assert ring4.ctl(1, 'NOSUSPENDMERGE') == 'SUCCEED\n'
    assert ring4.ctl(1, arg) == 'SUCCEED\n'
    ring4.wait_all([0x21, 0x21, 0x21, 0x11], via=1)


def test_suspend_when_k2hdkc_stops(ring4, reference_dir):
    ring4.wait_all([0x21, 0x21, 0x21, 0x11], via=1)
    assert ring4.stop(3, 'k2hdkc') == 0
    ring4.wait_self(3, 0x10021)
    _converges(ring4, 3, 'SELFSTATUS', reference_dir,
          'suspend_node3/node3_SELFSTATUS.txt')
    _same(ring4.ctl(3, 'SERVICEIN'), reference_dir,
          'suspend_node3/node3_SERVICEIN_while_suspend.txt')
    ring4.start_k2hdkc(3)  # re-attach: [n/a][Pending], automerge runs
    ring4.wait_all([0x21, 0x21, 0x21, 0x11], via=1)
