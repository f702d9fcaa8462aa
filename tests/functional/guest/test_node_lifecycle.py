"""Guest manager + process runtime against the data-plane stand-ins and a
loopback K2HR3 (prepare, configure, start, heal, refuse, stop)."""

from __future__ import annotations

import http.server
import json
import logging
import os
import pathlib
import signal
import threading
import urllib.parse

import pytest
from trove.instance import service_status

from tests.standins.dataplane import common
from tests.standins.dataplane import harness
from tests.unit.guest.conffix import guest_conf  # noqa: F401
from trove_k2hdkc.chmpx.ini import SELF_INSTANCE_ID_PLACEHOLDER
from trove_k2hdkc.guest import errors
from trove_k2hdkc.guest import manager as k2manager

TOKEN = 'r0leT0ken-5ecret-9d8c7b6a'
YRN = 'yrn:yahoo:::demo:resource:trove-k2hdkc/c1/server'
GUEST = '3f0a5e2c-1b7d-4e8a-9c6b-2d4f8a1e7c90'
S = service_status.ServiceStatuses


class K2hr3:
    """Serves GET /v1/resource/<yrn> like K2HR3; ``mode`` picks a fault."""

    def __init__(self) -> None:
        self.mode = 'ok'
        self.ini = ''
        self.registered = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                if outer.mode == '500':
                    return self._reply(500, {'result': False,
                                             'message': 'backend down'})
                if self.headers.get('x-auth-token') != 'R=' + TOKEN:
                    return self._reply(401, {'result': False,
                                             'message': 'bad token'})
                self._reply(200, {'result': True, 'message': None,
                                  'resource': outer.ini})

            def do_PUT(self):  # noqa: N802
                # Self-registration: the member is the source address.
                if self.headers.get('x-auth-token') != 'R=' + TOKEN:
                    return self._reply(401, {'result': False,
                                             'message': 'bad token'})
                path, _, query = self.path.partition('?')
                outer.registered.append(
                    (self.client_address[0], urllib.parse.unquote(path),
                     dict(urllib.parse.parse_qsl(query))))
                self._reply(201, {'result': True, 'message': None})

            def _reply(self, code, body):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                      Handler)
        self.url = 'http://127.0.0.1:%d' % self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def rendered_ini(ctlport: int, port: int, tmp_path, with_self=True) -> str:
    me = {'cuk': GUEST, 'port': port, 'ctlport': ctlport, 'seed': GUEST}
    other = {'cuk': 'other', 'port': harness.free_port(),
             'ctlport': harness.free_port(), 'seed': 'other'}
    slave = {'cuk': 'slave-cuk', 'ctlport': harness.free_port(),
             'seed': 'slave-seed'}
    servers = [me] if with_self else [other]
    return harness.render_ini(
        'mydkc', servers, slave, {'cuk': SELF_INSTANCE_ID_PLACEHOLDER},
        automerge=False, k2hfile=str(tmp_path / 'data' / 'k2hdkc.k2h'))


@pytest.fixture
def node(guest_conf, tmp_path, monkeypatch, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    ctlport, port = harness.free_port(), harness.free_port()
    guest_conf('chmpx_server_ctlport', ctlport)
    (tmp_path / 'shm').mkdir()
    monkeypatch.setenv('PATH', str(harness.BIN_DIR) + os.pathsep
                       + os.environ.get('PATH', ''))
    monkeypatch.setenv(common.SHMDIR_ENV, str(tmp_path / 'shm'))
    monkeypatch.setenv('K2HDKC_STANDIN_BIND', '127.0.0.1')
    monkeypatch.setattr(k2manager.Manager, 'GUEST_LOG_BASE_DIR',
                        str(tmp_path / 'log'))
    k2hr3 = K2hr3()
    k2hr3.ini = rendered_ini(ctlport, port, tmp_path)
    managers = []

    def new_manager():
        mgr = k2manager.Manager()
        mgr.resume_thread.join(30)      # what a restarted agent resumed
        mgr.app.shm_dir = str(tmp_path / 'shm')
        mgr.app.runtime.interval = 0.2
        managers.append(mgr)
        return mgr

    yield new_manager, k2hr3
    for mgr in reversed(managers):   # every process any agent knew of
        mgr.app.runtime.close()
        mgr.app.runtime.stop()
    k2hr3.close()
    assert TOKEN not in caplog.text


def prepare(mgr):
    mgr.do_prepare(None, None, None, 1024, None, 'proc', None, None,
                   '[trove]\n', None, None,
                   {'id': 'c1', 'instance_type': 'member'}, None)


def configure(mgr, k2hr3):
    return mgr.configure_node(None, k2hr3_url=k2hr3.url, resource_yrn=YRN,
                              role_yrn=YRN.replace('resource', 'role'),
                              role_token=TOKEN)


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
    k2hr3.mode = '500'
    with pytest.raises(errors.ConfigFetchError) as info:
        configure(mgr, k2hr3)
    assert 'HTTP 500' in str(info.value) and TOKEN not in str(info.value)
    assert not mgr.app.node_config.exists()
    k2hr3.mode = 'ok'
    assert mgr.refresh_config(None)['changed'] is True
    assert mgr.app.node_config.exists()


def test_k2hr3_connection_refused(node):
    new_manager, k2hr3 = node
    mgr = new_manager()
    closed = 'http://127.0.0.1:%d' % harness.free_port()
    with pytest.raises(errors.ConfigFetchError) as info:
        mgr.configure_node(None, k2hr3_url=closed, resource_yrn=YRN,
                           role_yrn=YRN, role_token=TOKEN)
    assert TOKEN not in str(info.value)


def test_bad_ini_refused_running_node_keeps_old(node, tmp_path):
    new_manager, k2hr3 = node
    mgr = new_manager()
    prepare(mgr)
    configure(mgr, k2hr3)
    bootstrap(mgr)
    before = mgr.app.node_config.path.read_bytes()
    port = mgr.app.node_config.ctlport
    k2hr3.ini = rendered_ini(port, 1, tmp_path, with_self=False)
    with pytest.raises(errors.ConfigRefusedError) as info:
        mgr.refresh_config(None)
    assert 'own entry' in str(info.value)
    assert mgr.app.node_config.path.read_bytes() == before
    assert mgr.app.runtime.is_running()
    assert mgr.status.get_actual_db_status() == S.HEALTHY


def prepare_single(mgr, k2hr3, **overrides):
    access = {'k2hr3_url': k2hr3.url, 'resource_yrn': YRN,
              'role_yrn': YRN.replace('resource', 'role'),
              'role_token': TOKEN}
    mgr.do_prepare(None, None, None, 1024, None, 'proc', None, None,
                   '[trove]\n', None, dict(overrides, k2hr3=access), None,
                   None)


def test_single_node_prepare_registers_and_gets_healthy(node):
    new_manager, k2hr3 = node
    mgr = new_manager()
    prepare_single(mgr, k2hr3, other_override=1)
    assert k2hr3.registered == [(
        '127.0.0.1', '/v1/role/' + YRN.replace('resource', 'role'),
        {'port': '0', 'cuk': GUEST, 'extra': 'trove-k2hdkc-v1',
         'tag': GUEST})]
    assert mgr.status.get_actual_db_status() == S.HEALTHY
    ring = mgr.node_status(None)['ring']
    assert [(r['cuk'], r['status']['code']) for r in ring] == [(GUEST,
                                                                 0x21)]

    again = new_manager()        # a re-sent prepare after an agent restart
    prepare_single(again, k2hr3)
    assert len(k2hr3.registered) == 2
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
    assert k2hr3.registered == []
    assert not mgr.app.node_config.exists()


def test_single_node_registration_refused_keeps_node_down(node):
    new_manager, k2hr3 = node
    mgr = new_manager()
    access = {'k2hr3_url': k2hr3.url, 'resource_yrn': YRN,
              'role_yrn': YRN.replace('resource', 'role'),
              'role_token': 'wrong-' + TOKEN}
    with pytest.raises(errors.ConfigFetchError) as info:
        mgr.do_prepare(None, None, None, 1024, None, 'proc', None, None,
                       '[trove]\n', None, {'k2hr3': access}, None, None)
    assert 'HTTP 401' in str(info.value) and TOKEN not in str(info.value)
    assert not mgr.app.node_config.exists()
    assert mgr.app.runtime.running() == {'chmpx': False, 'k2hdkc': False}
