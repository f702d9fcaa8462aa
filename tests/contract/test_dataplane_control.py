"""Contract: the chmpx stand-in's control port against the captures."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from tests.contract import dataplane_norm as norm
from tests.standins.dataplane import harness

SCEN = 'chmpx/control_port/healthy_3nodes'


@pytest.fixture(scope='module')
def ring(tmp_path_factory):
    with harness.LocalRing(tmp_path_factory.mktemp('dp3'), servers=3) as rg:
        rg.bootstrap(3)
        yield rg


def _captures(reference_dir):
    index = reference_dir / SCEN / 'index.jsonl'
    return [json.loads(line) for line in index.read_text().splitlines()]


def _port_of(ring, capture_port: int):
    return {28021: 1, 28023: 2, 28025: 3, 28031: 'slave'}[capture_port]


ORDERED = [
    # (file, may change ring state) in capture order, minus DUMP-after.
    'node1_VERSION.txt', 'node1_SELFSTATUS.txt', 'node2_SELFSTATUS.txt',
    'node3_SELFSTATUS.txt', 'node1_ALLSTATUS.txt',
    'node1_selfstatus_lowercase.txt', 'node1_UNKNOWN_HELLO.txt',
    'node1_EMPTY_LINE.txt', 'node1_SERVICEIN_already_in.txt',
    'node1_SERVICEOUT_no_arg.txt', 'node1_SERVICEOUT_unknown_server.txt',
    'node1_SERVICEOUT_bad_format.txt', 'node1_UPDATESTATUS.txt',
    'node1_TRACEVIEW.txt', 'node1_TRACE_no_arg.txt', 'slave_VERSION.txt',
    'slave_SELFSTATUS.txt', 'slave_ALLSTATUS.txt',
    'slave_UPDATESTATUS.txt', 'slave_SERVICEIN.txt', 'slave_MERGE.txt',
    'slave_SUSPENDMERGE.txt', 'node1_SERVICEOUT_unknown_server_3fields.txt',
    'node1_NOSUSPENDMERGE.txt', 'node1_MERGE_nothing_pending.txt',
    'node1_ALLSTATUS_after_MERGE.txt', 'node1_COMPMERGE_nothing_pending.txt',
    'node1_ABORTMERGE_nothing_pending.txt',
    'node1_ALLSTATUS_after_merge_cmds.txt',
]


@pytest.mark.parametrize('fname', ORDERED)
def test_healthy_reply_matches_capture(ring, reference_dir, fname):
    entry = next(e for e in _captures(reference_dir) if e['file'] == fname)
    want = (reference_dir / SCEN / fname).read_bytes().decode()
    got = ring.ctl(_port_of(ring, entry['port']), entry['sent'][:-1])
    assert norm.normalise(got) == norm.normalise(want)


@pytest.mark.parametrize('fname', ['node1_DUMP.txt', 'slave_DUMP.txt'])
def test_dump_matches_capture(ring, reference_dir, fname):
    entry = next(e for e in _captures(reference_dir) if e['file'] == fname)
    want = (reference_dir / SCEN / fname).read_text()
    got = ring.ctl(_port_of(ring, entry['port']), 'DUMP')
    # the capture ring ran AUTOMERGE=on; this one runs AUTOMERGE=off,
    # doc/ring-procedures.md §1
    assert 'automerge in conf    = no' in got
    got = got.replace('automerge in conf    = no',
                      'automerge in conf    = yes')
    assert norm.dump_parts(got) == norm.dump_parts(want)


def test_suspendmerge_propagates_to_dump(ring, reference_dir):
    assert ring.ctl(1, 'SUSPENDMERGE') == 'SUCCEED\n'
    try:
        for num, fname in ((1, 'node1_DUMP_after_SUSPENDMERGE.txt'),
                           (2, 'node2_DUMP_after_SUSPENDMERGE_on_node1.txt')):
            want = (reference_dir / SCEN / fname).read_text()
            got = ring.ctl(num, 'DUMP').replace(
                'automerge in conf    = no', 'automerge in conf    = yes')
            assert 'suspend automerge    = yes' in got
            assert norm.dump_parts(got)[0] == norm.dump_parts(want)[0]
    finally:
        assert ring.ctl(1, 'NOSUSPENDMERGE') == 'SUCCEED\n'
    assert 'suspend automerge    = no' in ring.ctl(2, 'DUMP')


def test_other_error_strings(ring):
    node3 = ring.nodes[2]
    assert ring.ctl(1, 'SERVICEOUT 127.0.0.1:%d' % node3['ctlport']) == (
        ring.ctl(1, 'SERVICEOUT'))
    assert ring.ctl(1, 'trace enable') == 'SUCCEED\n'
    assert ring.ctl(1, 'Version') == ring.ctl('slave', 'VERSION')


def test_start_with_fatal_ini_exits_1(tmp_path):
    rg = harness.LocalRing(tmp_path, servers=1)
    rg.write_configs([1])
    ini = rg.nodes[0]['ini']
    ini.write_text(ini.read_text().replace('GROUP ', 'XGROUP '))
    res = subprocess.run(
        ['chmpx', '-conf', str(ini), '-ctlport',
         str(rg.nodes[0]['ctlport'])], env=rg.env(rg.nodes[0]),
        capture_output=True, text=True, timeout=30)
    assert res.returncode == 1
    assert 'ERROR: Could not initialize process.' in res.stderr
    assert 'does not have "GROUP" in [GLOBAL] section.' in res.stderr


def test_tolerated_garbage_and_reload(tmp_path):
    with harness.LocalRing(tmp_path, servers=1) as rg:
        rg.write_configs([1])
        ini = rg.nodes[0]['ini']
        ini.write_text(ini.read_text() + '\nthis is garbage\nFOO = bar\n'
                       'REPLICA = many\n')
        proc = rg.start_chmpx(1)
        rg.wait_self(1, 0x10011)
        # in-place rewrite that is never empty: reloaded, still running
        with open(ini, 'r+') as fobj:
            text = fobj.read().replace('AUTOMERGE           = off',
                                       'AUTOMERGE           = on ')
            fobj.seek(0)
            fobj.write(text)
            fobj.truncate()
        harness.wait_for(lambda: 'automerge in conf    = yes'
                         in rg.ctl(1, 'DUMP'), 10, 'reload')
        # own entry removed -> fatal at reload -> exit 0
        text = ini.read_text().replace(
            'CTLPORT             = %d' % rg.nodes[0]['ctlport'],
            'CTLPORT             = 1')
        tmp = ini.with_suffix('.new')
        tmp.write_text(text)
        tmp.replace(ini)
        assert proc.wait(10) == 0
        log = (rg.nodes[0]['dir'] / 'chmpx.log').read_text()
        assert 'thus this is fatal error.' in log


def test_empty_file_on_reload_exits_0(tmp_path):
    with harness.LocalRing(tmp_path, servers=1) as rg:
        rg.write_configs([1])
        proc = rg.start_chmpx(1)
        rg.nodes[0]['ini'].write_text('')
        assert proc.wait(10) == 0


def test_signals(tmp_path):
    with harness.LocalRing(tmp_path, servers=1) as rg:
        rg.write_configs([1])
        chmpx = rg.start_chmpx(1)
        k2hdkc = rg.start_k2hdkc(1)
        rg.wait_self(1, 0x11)
        chmpx.send_signal(signal.SIGTERM)
        time.sleep(0.5)  # give a wrongly handled TERM time to act
        assert chmpx.poll() is None
        assert rg.ctl(1, 'VERSION').startswith('Version')
        assert rg.stop(1, 'k2hdkc', signal.SIGTERM) == 0
        assert k2hdkc.returncode == 0
        rg.wait_self(1, 0x10011)  # no SIGHUP crash (test_dataplane_faults)
        assert rg.stop(1, 'chmpx', signal.SIGHUP) == 0


def test_k2hdkc_refuses_mqack_on(tmp_path):
    rg = harness.LocalRing(tmp_path, servers=1)
    rg.write_configs([1])
    ini = rg.nodes[0]['ini']
    ini.write_text(ini.read_text().replace('MQACK               = no\n', ''))
    res = subprocess.run(
        ['k2hdkc', '-conf', str(ini), '-ctlport',
         str(rg.nodes[0]['ctlport'])], env=rg.env(rg.nodes[0]),
        capture_output=True, text=True, timeout=30)
    assert res.returncode != 0
    assert ('Chmpx MQ Ack mode is true(on), MQ Ack mode must be OFF(FALSE) '
            'for k2hdkc process.') in res.stderr
