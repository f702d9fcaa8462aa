"""Guest manager + process runtime against the data-plane stand-ins and
the K2HR3 stand-in (prepare, configure, start, heal, refuse, stop)."""

from __future__ import annotations

import logging
import os
import pathlib
import shutil
import signal
import tempfile

import pytest
from trove.instance import service_status

from tests.functional.k2hr3.helpers import TENANT
from tests.functional.k2hr3.helpers import login
from tests.functional.k2hr3.helpers import make_client
from tests.functional.k2hr3.helpers import requests_to
from tests.standins.dataplane import common
from tests.standins.dataplane import harness
from tests.standins.k2hr3 import K2hr3StandIn
from tests.standins.k2hr3.fixture import k2hr3_standin  # noqa: F401
from tests.unit.guest.conffix import guest_conf  # noqa: F401
from trove_k2hdkc.chmpx.ini import SELF_INSTANCE_ID_PLACEHOLDER
from trove_k2hdkc.guest import errors
from trove_k2hdkc.guest import manager as k2manager
from trove_k2hdkc.k2hr3 import RoleHost
from trove_k2hdkc.k2hr3 import Yrn
from trove_k2hdkc.k2hr3.layout import MEMBER_EXTRA

#: The node's resource is named as the layout names a cluster's
#: (doc/k2hr3-layout.md §1): the guest takes its GROUP from it.
NAME = 'k2hdkc-5d2e8c1a-7b3f-4a6e-9c0d-1e2f3a4b5c6d'
GUEST = '3f0a5e2c-1b7d-4e8a-9c6b-2d4f8a1e7c90'
S = service_status.ServiceStatuses


class NodeK2hr3:
    """This node's objects in the K2HR3 stand-in, made through the K2HR3
    client as the control plane does: a resource holding the rendered
    INI (a plain string value), a policy on it, a role with that policy
    and a role token, which the guest is handed."""

    def __init__(self, standin: K2hr3StandIn) -> None:
        self.standin = standin
        self.client = make_client(standin)
        self.user = login(standin, self.client)
        self.client.put_resource(self.user, NAME, data='', keys={})
        self.client.put_policy(self.user, NAME,
                               [Yrn(TENANT, 'resource', NAME)])
        self.client.put_role(self.user, NAME,
                             policies=[Yrn(TENANT, 'policy', NAME)])
        self.token = self.client.issue_role_token(self.user, NAME,
                                                  expire=0).token
        self.url = standin.url
        self.resource_yrn = str(Yrn(TENANT, 'resource', NAME))
        self.role_yrn = str(Yrn(TENANT, 'role', NAME))

    def publish(self, ini_text: str) -> None:
        """What K2HR3 renders for the node from now on."""
        self.client.put_resource(self.user, NAME, data=ini_text)

    def access(self, token: str | None = None) -> dict[str, str]:
        return {'k2hr3_url': self.url, 'resource_yrn': self.resource_yrn,
                'role_yrn': self.role_yrn,
                'role_token': self.token if token is None else token}

    def members(self) -> tuple[RoleHost, ...]:
        return self.client.get_role(self.user, NAME).hosts

    def registrations(self) -> list:
        """Self-registrations sent: PUT /v1/role/<yrn> with ``R=``."""
        return [r for r in requests_to(self.standin, 'PUT', '/v1/role/')
                if r[2].get('x-auth-token', '').startswith('R=')]

    def close(self) -> None:
        self.client.close()


def rendered_ini(ctlport: int, port: int, tmp_path, with_self=True) -> str:
    me = {'cuk': GUEST, 'port': port, 'ctlport': ctlport, 'seed': GUEST}
    other = {'cuk': 'other', 'port': harness.free_port(),
             'ctlport': harness.free_port(), 'seed': 'other'}
    slave = {'cuk': 'slave-cuk', 'ctlport': harness.free_port(),
             'seed': 'slave-seed'}
    servers = [me] if with_self else [other]
    return harness.render_ini(
        NAME, servers, slave, {'cuk': SELF_INSTANCE_ID_PLACEHOLDER},
        automerge=False, k2hfile=str(tmp_path / 'data' / 'k2hdkc.k2h'))


@pytest.fixture
def node(guest_conf, tmp_path, monkeypatch, caplog,  # noqa: F811
         k2hr3_standin):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    ctlport, port = harness.free_port(), harness.free_port()
    guest_conf('chmpx_server_ctlport', ctlport)
    guest_conf('chmpx_server_port', port)
    # short: the stand-in's shm is a unix socket named after the GROUP
    shm = tempfile.mkdtemp(prefix='guest-shm-')
    monkeypatch.setenv('PATH', str(harness.BIN_DIR) + os.pathsep
                       + os.environ.get('PATH', ''))
    monkeypatch.setenv(common.SHMDIR_ENV, shm)
    monkeypatch.setenv('K2HDKC_STANDIN_BIND', '127.0.0.1')
    monkeypatch.setattr(k2manager.Manager, 'GUEST_LOG_BASE_DIR',
                        str(tmp_path / 'log'))
    k2hr3 = NodeK2hr3(k2hr3_standin)
    k2hr3.publish(rendered_ini(ctlport, port, tmp_path))
    managers = []

    def new_manager():
        mgr = k2manager.Manager()
        mgr.resume_thread.join(30)      # what a restarted agent resumed
        mgr.app.shm_dir = shm
        mgr.app.runtime.interval = 0.2
        managers.append(mgr)
        return mgr

    yield new_manager, k2hr3
    for mgr in reversed(managers):   # every process any agent knew of
        mgr.app.runtime.close()
        mgr.app.runtime.stop()
    k2hr3.close()
    shutil.rmtree(shm, ignore_errors=True)
    assert k2hr3.token not in caplog.text


def prepare(mgr):
    mgr.do_prepare(None, None, None, 1024, None, 'proc', None, None,
                   '[trove]\n', None, None,
                   {'id': 'c1', 'instance_type': 'member'}, None)


def configure(mgr, k2hr3):
    return mgr.configure_node(None, **k2hr3.access())


def bootstrap(mgr):
    status = mgr.start_node(None)
    assert status['self']['status']['code'] == 0x11
    mgr.service_in(None)
    mgr.app.wait_for(lambda s: s.code == 0x1121, 'ADD/Pending')
    mgr.merge(None)
    mgr.app.wait_for(lambda s: s.needs_compmerge, 'Done')
    mgr.complete_merge(None)
    mgr.app.wait_for(lambda s: s.is_healthy, 'healthy')


def test_prepare_configure_start_healthy_and_stop_order(node, monkeypatch):
    new_manager, k2hr3 = node
    mgr = new_manager()
    prepare(mgr)
    assert mgr.app.runtime.running() == {'chmpx': False, 'k2hdkc': False}
    assert mgr.status.get_actual_db_status() == S.SHUTDOWN
    configure(mgr, k2hr3)
    ini_text = mgr.app.node_config.current()
    assert 'SELFCUK             = %s' % GUEST in ini_text
    access = mgr.app.access_store.path
    assert oct(access.stat().st_mode & 0o777) == '0o600'
    bootstrap(mgr)
    assert mgr.status.get_actual_db_status() == S.HEALTHY
    assert mgr.node_status(None)['ring'][0]['status']['code'] == 0x21

    sent = []
    real_kill = os.kill

    def kill(pid, sig):
        # Name the target when the signal is sent: the supervisor may have
        # restarted a process since any earlier look at the pids.
        cmdline = pathlib.Path('/proc/%d/cmdline' % pid).read_bytes()
        args = [os.path.basename(a) for a in cmdline.split(b'\0')]
        name = 'k2hdkc' if b'k2hdkc' in args else (
            'chmpx' if b'chmpx' in args else repr(args))
        sent.append((name, sig))
        real_kill(pid, sig)

    monkeypatch.setattr(os, 'kill', kill)
    mgr.stop_db(None)
    assert sent == [('k2hdkc', signal.SIGHUP), ('chmpx', signal.SIGHUP)]
    assert mgr.status.get_actual_db_status() == S.SHUTDOWN


def test_agent_killed_mid_prepare_then_rerun(node, tmp_path):
    new_manager, k2hr3 = node
    first = new_manager()
    prepare(first)
    configure(first, k2hr3)
    first.app.runtime.start()          # killed before any status wait
    pids = {n: first.app.runtime.pid(n) for n in ('chmpx', 'k2hdkc')}
    first.app.runtime.close()          # the agent dies; processes stay
    ini_path = first.app.node_config.path
    (ini_path.parent / '.k2hdkc.ini.x.tmp').write_text('[GLOBAL]\nGRO')
    expected = ini_path.read_bytes()

    second = new_manager()             # a restarted agent re-runs it all
    prepare(second)
    configure(second, k2hr3)
    bootstrap(second)
    assert {n: second.app.runtime.pid(n)
            for n in ('chmpx', 'k2hdkc')} == pids   # adopted, no duplicate
    assert ini_path.read_bytes() == expected
    assert second.status.get_actual_db_status() == S.HEALTHY


def test_crashed_k2hdkc_is_restarted(node):
    new_manager, k2hr3 = node
    mgr = new_manager()
    prepare(mgr)
    configure(mgr, k2hr3)
    bootstrap(mgr)
    old = mgr.app.runtime.pid('k2hdkc')
    os.kill(old, signal.SIGKILL)
    mgr.app.runtime._procs['k2hdkc'].popen.wait(5)
    assert mgr.status.get_actual_db_status() == S.CRASHED
    harness.wait_for(lambda: mgr.app.runtime.pid('k2hdkc') not in (None,
                                                                   old),
                     10, 'supervisor restart')
    mgr.app.wait_for(lambda s: s.attached, 'k2hdkc attached again')


def test_k2hr3_outage_then_retry(node, tmp_path):
    new_manager, k2hr3 = node
    mgr = new_manager()
    prepare(mgr)
    k2hr3.standin.fail_next(1, status=500)   # k2hr3_retries is 0
    with pytest.raises(errors.ConfigFetchError) as info:
        configure(mgr, k2hr3)
    assert 'HTTP 500' in str(info.value)
    assert k2hr3.token not in str(info.value)
    assert not mgr.app.node_config.exists()
    assert mgr.refresh_config(None)['changed'] is True
    assert mgr.app.node_config.exists()


def test_k2hr3_connection_refused(node):
    new_manager, k2hr3 = node
    mgr = new_manager()
    closed = 'http://127.0.0.1:%d' % harness.free_port()
    with pytest.raises(errors.ConfigFetchError) as info:
        mgr.configure_node(None, **dict(k2hr3.access(), k2hr3_url=closed))
    assert k2hr3.token not in str(info.value)


def test_bad_ini_refused_running_node_keeps_old(node, tmp_path):
    new_manager, k2hr3 = node
    mgr = new_manager()
    prepare(mgr)
    configure(mgr, k2hr3)
    bootstrap(mgr)
    before = mgr.app.node_config.path.read_bytes()
    port = mgr.app.node_config.ctlport
    k2hr3.publish(rendered_ini(port, 1, tmp_path, with_self=False))
    with pytest.raises(errors.ConfigRefusedError) as info:
        mgr.refresh_config(None)
    assert 'own entry' in str(info.value)
    assert mgr.app.node_config.path.read_bytes() == before
    assert mgr.app.runtime.is_running()
    assert mgr.status.get_actual_db_status() == S.HEALTHY


def prepare_single(mgr, k2hr3, **overrides):
    mgr.do_prepare(None, None, None, 1024, None, 'proc', None, None,
                   '[trove]\n', None, dict(overrides, k2hr3=k2hr3.access()),
                   None, None)


def test_single_node_prepare_registers_and_gets_healthy(node):
    new_manager, k2hr3 = node
    mgr = new_manager()
    prepare_single(mgr, k2hr3, other_override=1)
    # The member is the request's source address (loopback here).
    assert k2hr3.members() == (
        RoleHost('127.0.0.1', 0, GUEST, MEMBER_EXTRA, GUEST),)
    assert len(k2hr3.registrations()) == 1
    assert mgr.status.get_actual_db_status() == S.HEALTHY
    ring = mgr.node_status(None)['ring']
    assert [(r['cuk'], r['status']['code']) for r in ring] == [(GUEST,
                                                                 0x21)]

    again = new_manager()        # a re-sent prepare after an agent restart
    prepare_single(again, k2hr3)
    assert len(k2hr3.registrations()) == 2      # sent again: an upsert
    assert len(k2hr3.members()) == 1
    assert again.status.get_actual_db_status() == S.HEALTHY


def test_single_node_restart_comes_back_healthy(node):
    new_manager, k2hr3 = node
    mgr = new_manager()
    prepare_single(mgr, k2hr3)
    old = mgr.app.runtime.pid('chmpx')
    status = mgr.restart(None)
    assert mgr.app.runtime.pid('chmpx') != old
    assert status['self']['status']['code'] == 0x21
    assert mgr.status.get_actual_db_status() == S.HEALTHY


def test_single_node_vm_reboot_comes_back_healthy(node):
    new_manager, k2hr3 = node
    mgr = new_manager()
    prepare_single(mgr, k2hr3)
    mgr.app.runtime.close()             # the agent goes down with the VM
    for name in ('k2hdkc', 'chmpx'):
        proc = mgr.app.runtime._procs[name]
        os.kill(proc.pid, signal.SIGKILL)
        proc.popen.wait(10)

    again = new_manager()               # the agent starts after the boot
    again.healer.min_gap = 0.5
    assert again.app.runtime.running() == {'chmpx': True, 'k2hdkc': True}
    # chmpx of a lone server comes back SERVICE OUT; the status checks
    # bootstrap it alone again.
    harness.wait_for(lambda: again.status.get_actual_db_status()
                     == S.HEALTHY, 60, 'healthy through status checks')


@pytest.mark.parametrize('overrides', [None, {}, {'k2hr3': {}},
                                       {'k2hr3': {'k2hr3_url': 'x'}},
                                       {'k2hr3': 'not-a-dict'}])
def test_single_node_prepare_without_access_is_refused(node, overrides):
    new_manager, k2hr3 = node
    mgr = new_manager()
    with pytest.raises(errors.GuestNodeError):
        mgr.do_prepare(None, None, None, 1024, None, 'proc', None, None,
                       '[trove]\n', None, overrides, None, None)
    assert k2hr3.registrations() == [] and k2hr3.members() == ()
    assert not mgr.app.node_config.exists()


def test_single_node_registration_refused_keeps_node_down(node):
    new_manager, k2hr3 = node
    mgr = new_manager()
    access = k2hr3.access(token='wrong-' + k2hr3.token)
    with pytest.raises(errors.ConfigFetchError) as info:
        mgr.do_prepare(None, None, None, 1024, None, 'proc', None, None,
                       '[trove]\n', None, {'k2hr3': access}, None, None)
    assert 'HTTP 401' in str(info.value)
    assert k2hr3.token not in str(info.value)
    assert k2hr3.members() == ()
    assert not mgr.app.node_config.exists()
    assert mgr.app.runtime.running() == {'chmpx': False, 'k2hdkc': False}
