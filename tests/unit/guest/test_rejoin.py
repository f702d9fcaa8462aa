"""The rejoin rule (doc/ring-procedures.md §6) and the doc/ring-procedures.md
§8 escalation of a k2hdkc restart whose k2hdkc never attaches, against
fakes."""

from __future__ import annotations

import types

import pytest

from trove_k2hdkc.chmpx.status import AllStatus
from trove_k2hdkc.chmpx.status import ServerStatus
from trove_k2hdkc.chmpx.status import parse_node_status
from trove_k2hdkc.guest import errors
from trove_k2hdkc.guest import rejoin
from trove_k2hdkc.guest.service import K2hdkcApp

TEXT = {
    0x21: '0x21(SAFE -> [SERVICE IN][UP][n/a][Nothing][NoSuspend])',
    0x20: '0x20(SAFE -> [SERVICE IN][DOWN][n/a][Nothing][NoSuspend])',
    0x11: '0x11(SAFE -> [SERVICE OUT][UP][n/a][Nothing][NoSuspend])',
    0x1021: '0x1021(SAFE -> [SERVICE IN][UP][n/a][Pending][NoSuspend])',
    0x3021: '0x3021(SAFE -> [SERVICE IN][UP][n/a][Done][NoSuspend])',
    0x1121: '0x1121(SAFE -> [SERVICE IN][UP][ADD][Pending][NoSuspend])',
    0x1221: '0x1221(SAFE -> [SERVICE IN][UP][DELETE][Pending][NoSuspend])',
    0x10021: '0x10021(SAFE -> [SERVICE IN][UP][n/a][Nothing][Suspend])',
}


def server(num, code):
    return ServerStatus(
        number=num, server_name='node%d' % num, port=8020 + 2 * num,
        ctlport=8021 + 2 * num, cuk='cuk-%d' % num,
        custom_id_seed='seed-%d' % num, endpoints='', ctl_endpoints='',
        forward_peers='', reverse_peers='', ssl=False,
        status=parse_node_status(TEXT[code]), last_update=None,
        enable_hash=None, pending_hash=None)


def plan(mine, *others):
    """This node is No.1 with ``mine``; ``others`` are the rest."""
    servers = [server(1, mine)] + [server(n, code) for n, code
                                   in enumerate(others, start=2)]
    me = types.SimpleNamespace(ctlport=8023, custom_id_seed='seed-1',
                               cuk='cuk-1', status=servers[0].status)
    return rejoin.plan(me, AllStatus('mydkc', tuple(servers)))


@pytest.mark.parametrize('mine,others,expected', [
    (0x21, (0x21, 0x1021), rejoin.Plan.NOTHING),
    (0x1021, (0x21, 0x21), rejoin.Plan.MERGE),
    (0x11, (), rejoin.Plan.BOOTSTRAP),
    (0x1021, (), rejoin.Plan.BOOTSTRAP),
])
def test_plan(mine, others, expected):
    assert plan(mine, *others) is expected


@pytest.mark.parametrize('mine,others,shown', [
    (0x1021, (0x21, 0x10021), '0x10021'),   # another k2hdkc is down
    (0x1021, (0x21, 0x20), '0x20'),         # another node is down
    (0x1021, (0x21, 0x1121), '0x1121'),     # a grow is running
    (0x1021, (0x1221, 0x21), '0x1221'),     # a shrink is running
    (0x1021, (0x1021, 0x1021), '0x1021'),   # a ring-wide merge is due
    (0x3021, (0x21, 0x21), '0x3021'),       # not exactly [Pending]
    (0x10021, (0x21, 0x21), '0x10021'),     # no k2hdkc attached
    (0x11, (0x21, 0x21), '0x11'),           # out of the ring
])
def test_refused(mine, others, shown):
    with pytest.raises(errors.RejoinRefused) as info:
        plan(mine, *others)
    assert shown in str(info.value)


def test_refused_when_not_listed():
    me = types.SimpleNamespace(ctlport=9999, custom_id_seed='x', cuk='y',
                               status=parse_node_status(TEXT[0x1021]))
    with pytest.raises(errors.RejoinRefused):
        rejoin.plan(me, AllStatus('mydkc', (server(1, 0x21),)))


class Runtime:
    """k2hdkc attaches on start unless ``hung``; a full restart of chmpx
    and k2hdkc always attaches it. ``ignores_hup``: k2hdkc needs SIGKILL;
    ``misses_detach``: chmpx never notices k2hdkc left until it restarts.
    """

    def __init__(self, hung=False, ignores_hup=False, misses_detach=False):
        self.hung = hung
        self.ignores_hup = ignores_hup
        self.misses_detach = misses_detach
        self.calls = []
        self.attached = True
        self.pending = False

    def stop_k2hdkc(self):
        self.calls.append('stop_k2hdkc')
        self.attached = self.misses_detach
        return not self.ignores_hup

    def restart_chmpx(self):
        self.calls.append('restart_chmpx')
        self.attached = self.pending = False

    def start_k2hdkc(self):
        self.calls.append('start_k2hdkc')
        if not self.hung:
            self.attached = self.pending = True

    def stop(self):
        self.calls.append('stop')
        self.attached = False

    def start(self):
        self.calls.append('start')
        self.attached = self.pending = True

    def poke_shm(self, path):
        self.calls.append('poke_shm')


class Client:
    host = '127.0.0.1'
    port = 8021

    def __init__(self, runtime):
        self.runtime = runtime

    def self_status(self):
        rt = self.runtime
        code = (0x10021 if not rt.attached
                else 0x1021 if rt.pending else 0x21)
        return types.SimpleNamespace(status=parse_node_status(TEXT[code]))


#: The stored K2HR3 access (these fake NodeConfigs ignore it).
NO_ACCESS = types.SimpleNamespace(load=lambda: None)


class NodeConfig:
    ctlport = 8021

    def self_name(self):
        return None

    def checked(self, access):
        return types.SimpleNamespace(group='mydkc', k2hdkc={})


def app_with(runtime, tmp_path):
    app = K2hdkcApp(runtime, NodeConfig(), NO_ACCESS, None,
                    conf_dir=tmp_path,
                    data_dir=tmp_path, start_timeout=5.0,
                    poll_interval=0.01, attach_timeout=0.3)
    app._client = Client(runtime)
    app.node_status = lambda: {'self': app.self_status().code}
    return app


def test_restart_k2hdkc_that_never_attaches_restarts_chmpx_too(tmp_path):
    runtime = Runtime(hung=True)
    assert app_with(runtime, tmp_path).restart_k2hdkc() == {'self': 0x1021}
    assert runtime.calls == ['stop_k2hdkc', 'start_k2hdkc', 'stop',
                             'start']


def test_restart_k2hdkc_that_attaches_keeps_chmpx(tmp_path):
    runtime = Runtime(hung=False)
    assert app_with(runtime, tmp_path).restart_k2hdkc() == {'self': 0x1021}
    assert runtime.calls == ['stop_k2hdkc', 'start_k2hdkc']


def test_k2hdkc_that_needed_sigkill_restarts_chmpx_too(tmp_path):
    """doc/ring-procedures.md §8: after a SIGKILL the new k2hdkc cannot
    re-attach to the old chmpx, so chmpx restarts (with k2hdkc held) first."""
    runtime = Runtime(ignores_hup=True)
    assert app_with(runtime, tmp_path).restart_k2hdkc() == {'self': 0x1021}
    assert runtime.calls == ['stop_k2hdkc', 'restart_chmpx', 'start_k2hdkc']


def test_chmpx_missing_the_detach_is_restarted(tmp_path):
    runtime = Runtime(misses_detach=True)
    assert app_with(runtime, tmp_path).restart_k2hdkc() == {'self': 0x1021}
    assert runtime.calls == ['stop_k2hdkc', 'poke_shm', 'restart_chmpx',
                             'start_k2hdkc']
