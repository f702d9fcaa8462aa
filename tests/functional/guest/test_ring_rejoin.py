"""A real guest Manager as the third server of a ring whose other servers and
slave are ``harness.LocalRing`` stand-ins: restart, heal after a crash or a VM
reboot, refusal while another server is not healthy, the doc/ring-procedures.md
§8 SIGKILL of a hung k2hdkc, and upgrade (doc/ring-procedures.md §6, §8)."""

from __future__ import annotations

import os
import signal
import time
import types

import pytest

from tests.functional.guest.test_node_lifecycle import GUEST
from tests.functional.guest.test_node_lifecycle import NAME
from tests.functional.guest.test_node_lifecycle import S
from tests.functional.guest.test_node_lifecycle import configure
from tests.functional.guest.test_node_lifecycle import node  # noqa: F401
from tests.functional.guest.test_node_lifecycle import prepare
from tests.standins.dataplane import harness
from tests.standins.dataplane.k2hdkc_main import IGNORE_SIGHUP_ENV
from tests.standins.k2hr3.fixture import k2hr3_standin  # noqa: F401
from tests.unit.guest.conffix import guest_conf  # noqa: F401
from trove_k2hdkc.chmpx.ini import SELF_INSTANCE_ID_PLACEHOLDER
from trove_k2hdkc.guest import errors

HEALTHY = harness.HEALTHY
KEYS = {'key%02d' % i: 'value%02d' % i for i in range(30)}


def _pid_gone(mgr, name):
    proc = mgr.app.runtime._procs[name]
    os.kill(proc.pid, signal.SIGKILL)
    proc.popen.wait(10)


def heartbeats_until_healthy(mgr, timeout=60.0):
    """What Trove's periodic status check does, until HEALTHY."""
    deadline = time.monotonic() + timeout
    while mgr.status.get_actual_db_status() != S.HEALTHY:
        if time.monotonic() >= deadline:
            raise AssertionError('node not healed; self status %s'
                                 % mgr.app.self_status().text)
        time.sleep(0.3)


@pytest.fixture
def trio(node, tmp_path):  # noqa: F811
    """Servers 1, 2 and the slave from LocalRing; server 3 is the guest."""
    new_manager, k2hr3 = node
    with harness.LocalRing(tmp_path / 'ring', servers=3,
                           group=NAME) as ring:
        mgr = new_manager()
        mgr.healer.min_gap = 1.0
        guest = ring.nodes[2]
        guest.update(cuk=GUEST, seed=GUEST, port=mgr.app.node_config.port,
                     ctlport=mgr.app.node_config.ctlport,
                     k2hfile=tmp_path / 'data' / 'k2hdkc.k2h')
        ring.write_configs([1, 2, 3], nodes=[1, 2])
        k2hr3.publish(harness.render_ini(
            NAME, ring.nodes, ring.slave,
            {'cuk': SELF_INSTANCE_ID_PLACEHOLDER}, automerge=False,
            k2hfile=str(guest['k2hfile'])))
        ring.start_node(1)
        ring.start_node(2)
        prepare(mgr)
        configure(mgr, k2hr3)
        mgr.start_node(None)
        for num in (1, 2, 3):           # doc/ring-procedures.md §2
            ring.wait_self(num, 0x11)
            assert ring.ctl(num, 'SERVICEIN') == 'SUCCEED\n'
        for num in (1, 2, 3):
            ring.wait_self(num, 0x1121)
        assert ring.ctl(1, 'MERGE') == 'SUCCEED\n'
        ring.wait_all([0x3121] * 3)
        assert ring.ctl(1, 'COMPMERGE') == 'SUCCEED\n'
        ring.wait_all([HEALTHY] * 3)
        ring.start_chmpx('slave')
        # A bound, not a speed check: the slave's first join once took
        # longer than the default 20 s on a loaded machine.
        ring.wait_all([HEALTHY] * 3, via='slave', timeout=60)
        ring.linetool(['set %s %s' % kv for kv in KEYS.items()])
        assert ring.readable(KEYS) == len(KEYS)
        yield types.SimpleNamespace(mgr=mgr, ring=ring,
                                    new_manager=new_manager)


def test_restart_rejoins_and_keys_stay_readable(trio):
    mgr, ring = trio.mgr, trio.ring
    before = {n: mgr.app.runtime.pid(n) for n in ('chmpx', 'k2hdkc')}
    status = mgr.restart(None)
    assert status['self']['status']['code'] == HEALTHY
    after = {n: mgr.app.runtime.pid(n) for n in ('chmpx', 'k2hdkc')}
    assert not set(before.values()) & set(after.values())
    ring.wait_all([HEALTHY] * 3, via='slave')
    assert ring.readable(KEYS) == len(KEYS)


def test_killed_k2hdkc_is_healed_by_status_checks(trio, caplog):
    mgr, ring = trio.mgr, trio.ring
    old = mgr.app.runtime.pid('k2hdkc')
    _pid_gone(mgr, 'k2hdkc')
    harness.wait_for(lambda: mgr.app.runtime.pid('k2hdkc') not in (None,
                                                                   old),
                     20, 'supervisor restart of k2hdkc')
    mgr.app.wait_for(lambda s: s.code == 0x1021, '[Pending] after restart')
    heartbeats_until_healthy(mgr)
    assert 'Healed: the node is healthy again.' in caplog.text
    ring.wait_all([HEALTHY] * 3, via='slave')
    assert ring.readable(KEYS) == len(KEYS)


def test_vm_reboot_agent_starts_node_and_heals_it(trio):
    mgr, ring = trio.mgr, trio.ring
    mgr.app.runtime.close()             # the agent goes down with the VM
    _pid_gone(mgr, 'k2hdkc')
    _pid_gone(mgr, 'chmpx')
    ring.wait_all([HEALTHY, HEALTHY, 0x20], via=1)   # SERVICE IN, DOWN

    again = trio.new_manager()          # the agent starts after the boot
    assert again.app.runtime.running() == {'chmpx': True, 'k2hdkc': True}
    heartbeats_until_healthy(again)
    ring.wait_all([HEALTHY] * 3, via='slave')
    assert ring.readable(KEYS) == len(KEYS)


def test_rejoin_refused_while_another_server_is_not_healthy(trio):
    mgr, ring = trio.mgr, trio.ring
    assert ring.stop(1, 'k2hdkc') == 0
    ring.wait_self(1, 0x10021)
    mgr.restart_k2hdkc(None)
    assert mgr.app.self_status().code == 0x1021

    with pytest.raises(errors.RejoinRefused) as info:
        mgr.app.rejoin()
    assert '0x10021' in str(info.value)
    mgr.healer.min_gap = 0.0
    assert mgr.healer.observe(mgr.app.self_status()) is False
    assert mgr.healer.observe(mgr.app.self_status()) is False
    assert mgr.status.get_actual_db_status() == S.RUNNING
    assert ring.self_code(3) == 0x1021     # the ring was not touched
    assert ring.self_code(1) == 0x10021


def test_k2hdkc_ignoring_sighup_is_killed_then_rejoins(trio, caplog):
    mgr, ring = trio.mgr, trio.ring
    runtime = mgr.app.runtime
    runtime.stop_timeout = 1.0
    runtime.env[IGNORE_SIGHUP_ENV] = '1'
    mgr.restart_k2hdkc(None)            # now runs a k2hdkc that hangs
    mgr.app.rejoin()
    hung = runtime.pid('k2hdkc')
    chmpx = runtime.pid('chmpx')

    status = mgr.restart_k2hdkc(None)
    assert status['self']['status']['code'] == 0x1021
    assert runtime.pid('k2hdkc') != hung
    assert 'ignored SIGHUP' in caplog.text
    # doc/ring-procedures.md §8: after a SIGKILL chmpx is restarted too.
    assert runtime.pid('chmpx') != chmpx
    runtime.env.pop(IGNORE_SIGHUP_ENV)
    assert mgr.app.rejoin()['self']['status']['code'] == HEALTHY
    ring.wait_all([HEALTHY] * 3, via='slave')
    assert ring.readable(KEYS) == len(KEYS)


def test_upgrade_restarts_processes_and_rejoins(trio, caplog):
    mgr, ring = trio.mgr, trio.ring
    with pytest.raises(errors.GuestNodeError):
        mgr.upgrade(None, {})
    old = mgr.app.runtime.pid('chmpx')
    status = mgr.upgrade(None, {'datastore_version': '1.0.110'})
    assert status['self']['status']['code'] == HEALTHY
    assert mgr.app.runtime.pid('chmpx') != old
    assert 'datastore version 1.0.110' in caplog.text
    ring.wait_all([HEALTHY] * 3, via='slave')
    assert ring.readable(KEYS) == len(KEYS)
