"""The guest-local merge back, watched (doc/ring-procedures.md §6, §8),
and the purge halves the taskmanager sequences (§5), against a fake
control port: a hung MERGE is aborted via a PEER (sent to the stuck node
itself ABORTMERGE does nothing), retried, and given up after the second
hang with the node left in [Pending]."""

from __future__ import annotations

import types

import pytest

from tests.unit.guest.test_rejoin import TEXT
from tests.unit.guest.test_rejoin import Runtime
from tests.unit.guest.test_rejoin import server
from trove_k2hdkc.chmpx.errors import ControlPortTimeout
from trove_k2hdkc.chmpx.errors import ControlPortUnavailable
from trove_k2hdkc.chmpx.status import AllStatus
from trove_k2hdkc.chmpx.status import parse_node_status
from trove_k2hdkc.guest import rejoin
from trove_k2hdkc.guest.errors import RuntimeStartError
from trove_k2hdkc.guest.service import K2hdkcApp

TEXT = {**TEXT,
        0x2021: '0x2021(SAFE -> [SERVICE IN][UP][n/a][Doing][NoSuspend])'}


class Ring:
    """This node (No.1) and what the control ports did to it."""

    def __init__(self, hangs=0, late_merge_reply=False):
        self.code = 0x1021
        self.hangs = hangs
        self.late_merge_reply = late_merge_reply
        self.sent: list[tuple[str, str]] = []


class OwnPort:
    host, port = 'node1', 8023

    def __init__(self, ring, runtime=None):
        self.ring, self.runtime = ring, runtime

    def merge(self):
        ring = self.ring
        ring.sent.append(('node1', 'MERGE'))
        if ring.code != 0x1021:
            raise AssertionError('MERGE while %#x' % ring.code)
        ring.code = 0x2021 if ring.hangs else 0x3021
        ring.hangs = max(ring.hangs - 1, 0)
        if ring.late_merge_reply:
            raise ControlPortTimeout('no reply within 5.0 s')

    def comp_merge(self):
        self.ring.sent.append(('node1', 'COMPMERGE'))
        assert self.ring.code == 0x3021
        self.ring.code = 0x21

    def abort_merge(self):
        self.ring.sent.append(('node1', 'ABORTMERGE'))   # does nothing

    def self_status(self):
        detached = self.runtime is not None and not self.runtime.attached
        return types.SimpleNamespace(
            ctlport=8023, custom_id_seed='seed-1', cuk='cuk-1',
            status=parse_node_status(
                TEXT[0x10021 if detached else self.ring.code]))

    def all_status(self):
        return AllStatus('mydkc', (server(1, self.ring.code),
                                   server(2, 0x21), server(3, 0x21)))


class PeerPort:
    """``refuses``: chmpx is down; ``ignores``: SUCCEED, nothing changes
    (the stuck node)."""

    def __init__(self, ring, host, port, refuses=False, ignores=False):
        self.ring, self.host, self.port = ring, host, port
        self.refuses, self.ignores = refuses, ignores

    def abort_merge(self):
        self.ring.sent.append((self.host, 'ABORTMERGE'))
        if self.refuses:
            raise ControlPortUnavailable('connection refused')
        if self.ring.code in (0x2021, 0x3021) and not self.ignores:
            self.ring.code = 0x1021


def wait_on(ring):
    """``wait_for`` without a clock: the predicate holds now or never."""
    def wait(pred, what, timeout=None):
        status = parse_node_status(TEXT[ring.code])
        if not pred(status):
            raise RuntimeStartError('node did not reach %s' % what)
        return status
    return wait


def merge_back(ring, peers=None):
    peers = peers or [PeerPort(ring, 'node2', 8025)]
    rejoin.merge_back(OwnPort(ring), peers, wait_on(ring), bound=60.0)


def test_merge_back_without_a_hang():
    ring = Ring()
    merge_back(ring)
    assert ring.sent == [('node1', 'MERGE'), ('node1', 'COMPMERGE')]
    assert ring.code == 0x21


def test_a_hung_merge_is_aborted_via_a_peer_and_retried():
    ring = Ring(hangs=1)
    merge_back(ring)
    assert ring.sent == [('node1', 'MERGE'), ('node2', 'ABORTMERGE'),
                         ('node1', 'MERGE'), ('node1', 'COMPMERGE')]
    assert ring.code == 0x21


def test_second_hang_gives_up_with_the_node_pending():
    ring = Ring(hangs=2)
    with pytest.raises(rejoin.MergeHung) as err:
        merge_back(ring)
    assert 'hung 2 times' in str(err.value)
    assert 'stays [Pending]' in str(err.value)
    assert ring.sent == [('node1', 'MERGE'), ('node2', 'ABORTMERGE')] * 2
    assert ring.code == 0x1021


@pytest.mark.parametrize('fault', ['refuses', 'ignores'])
def test_abort_goes_to_the_next_peer_when_one_fails(fault):
    ring = Ring(hangs=1)
    merge_back(ring, [PeerPort(ring, 'node2', 8025, **{fault: True}),
                      PeerPort(ring, 'node3', 8027)])
    assert ring.sent[1:3] == [('node2', 'ABORTMERGE'),
                              ('node3', 'ABORTMERGE')]
    assert ring.code == 0x21


def test_no_peer_to_abort_through_is_a_clear_error():
    ring = Ring(hangs=1)
    with pytest.raises(rejoin.MergeHung) as err:
        merge_back(ring, [PeerPort(ring, 'node2', 8025, refuses=True)])
    assert 'no peer could abort it' in str(err.value)
    assert 'node2:8025' in str(err.value)


def test_a_late_merge_reply_is_judged_by_status():
    ring = Ring(late_merge_reply=True)
    merge_back(ring)
    assert ring.code == 0x21


def test_peers_come_from_allstatus_without_this_node():
    ring = Ring()
    own = OwnPort(ring)
    ports = rejoin.peers(own.self_status(), own.all_status(), timeout=7.0)
    assert [(p.host, p.port, p.timeout) for p in ports] == [
        ('node2', 8025, 7.0), ('node3', 8027, 7.0)]


# -- through K2hdkcApp ------------------------------------------------------

#: The stored K2HR3 access (these fake NodeConfigs ignore it).
NO_ACCESS = types.SimpleNamespace(load=lambda: None)


class NodeConfig:
    ctlport = 8023

    def __init__(self, k2hfile):
        self.k2hfile = str(k2hfile)

    def self_name(self):
        return 'node1'

    def exists(self):
        return True

    def checked(self, access):
        return types.SimpleNamespace(group='mydkc',
                                     k2hdkc={'K2HFILE': self.k2hfile})


def app_on(ring, runtime, tmp_path):
    app = K2hdkcApp(runtime, NodeConfig(tmp_path / 'k2hdkc.k2h'),
                    NO_ACCESS, None, conf_dir=tmp_path, data_dir=tmp_path,
                    start_timeout=0.5, poll_interval=0.01,
                    attach_timeout=0.3, merge_timeout=0.2)
    app._client = OwnPort(ring, runtime)
    app.node_status = lambda: {'self': ring.code}
    return app


def test_rejoin_aborts_a_hung_merge_via_a_peer(tmp_path, monkeypatch):
    ring = Ring(hangs=1)
    monkeypatch.setattr(rejoin.ctl, 'ControlPortClient',
                        lambda host, port, **limits: PeerPort(ring, host,
                                                             port))
    app = app_on(ring, Runtime(), tmp_path)
    assert app.rejoin() == {'self': 0x21}
    assert ring.sent[:3] == [('node1', 'MERGE'), ('node2', 'ABORTMERGE'),
                             ('node1', 'MERGE')]


class RingRuntime(Runtime):
    """Starting k2hdkc (alone or with chmpx) puts this node in
    [n/a][Pending]; while it is stopped chmpx shows [Suspend]."""

    def __init__(self, ring):
        super().__init__()
        self.ring = ring

    def start_k2hdkc(self):
        super().start_k2hdkc()
        self.ring.code = 0x1021

    def start(self):
        super().start()
        self.ring.code = 0x1021


def healthy_app(tmp_path):
    ring = Ring()
    ring.code = 0x21
    runtime = RingRuntime(ring)
    return ring, runtime, app_on(ring, runtime, tmp_path)


def test_purge_prepare_moves_the_file_aside_once(tmp_path):
    ring, runtime, app = healthy_app(tmp_path)
    k2hfile = tmp_path / 'k2hdkc.k2h'
    k2hfile.write_text('old copies')
    assert app.purge_prepare() == {'self': 0x1021}
    aside = tmp_path / 'k2hdkc.k2h.purge'
    assert aside.read_text() == 'old copies'
    assert runtime.calls == ['stop_k2hdkc', 'start_k2hdkc']
    k2hfile.write_text('refilled')       # what the new k2hdkc wrote
    # sent again (an RPC retry): already prepared, nothing happens
    assert app.purge_prepare() == {'self': 0x1021}
    assert runtime.calls == ['stop_k2hdkc', 'start_k2hdkc']
    assert aside.read_text() == 'old copies'
    assert k2hfile.read_text() == 'refilled'
    assert ring.sent == []               # the merge is the caller's
    ring.code = 0x21
    app.purge_finish()
    app.purge_finish()
    assert not aside.exists() and k2hfile.read_text() == 'refilled'


def prepared_purge(tmp_path):
    """A purge prepared, then part-refilled by a merge left hanging in
    [Doing] and aborted (doc/ring-procedures.md §5, §8)."""
    ring, runtime, app = healthy_app(tmp_path)
    k2hfile = tmp_path / 'k2hdkc.k2h'
    k2hfile.write_text('old copies')
    app.purge_prepare()
    k2hfile.write_text('partial refill')
    return ring, runtime, app, k2hfile, tmp_path / 'k2hdkc.k2h.purge'


def test_restarted_purge_starts_again_on_an_empty_file(tmp_path):
    """The watchdog restarts the k2hdkc of a purging node it finds left
    in [Doing]: the refill starts again without a time filter."""
    ring, runtime, app, k2hfile, aside = prepared_purge(tmp_path)
    assert app.restart_k2hdkc() == {'self': 0x1021}
    assert not k2hfile.exists()
    assert aside.read_text() == 'old copies'


def test_purge_prepared_again_mid_merge_keeps_the_old_copies(tmp_path):
    ring, runtime, app, k2hfile, aside = prepared_purge(tmp_path)
    ring.code = 0x2021            # not Pending: prepared again for real
    assert app.purge_prepare() == {'self': 0x1021}
    assert runtime.calls.count('start_k2hdkc') == 2
    assert not k2hfile.exists()
    assert aside.read_text() == 'old copies'


def test_restart_outside_a_purge_keeps_the_file(tmp_path):
    ring, runtime, app = healthy_app(tmp_path)
    k2hfile = tmp_path / 'k2hdkc.k2h'
    k2hfile.write_text('data')
    app.restart_k2hdkc()
    assert k2hfile.read_text() == 'data'


def test_purge_node_runs_the_watched_merge_itself(tmp_path, monkeypatch):
    ring, runtime, app = healthy_app(tmp_path)
    ring.hangs = 1
    monkeypatch.setattr(rejoin.ctl, 'ControlPortClient',
                        lambda host, port, **limits: PeerPort(ring, host,
                                                             port))
    (tmp_path / 'k2hdkc.k2h').write_text('old copies')
    assert app.purge_node() == {'self': 0x21}
    assert ('node2', 'ABORTMERGE') in ring.sent
    assert not (tmp_path / 'k2hdkc.k2h.purge').exists()


def test_restart_without_rejoin_returns_at_pending(tmp_path):
    ring, _, app = healthy_app(tmp_path)
    assert app.restart(rejoin=False) == {'self': 0x1021}
    assert ring.sent == []
    assert app.restart() == {'self': 0x21}
    assert ring.sent == [('node1', 'MERGE'), ('node1', 'COMPMERGE')]


def test_manager_passes_the_rejoin_flag():
    from trove_k2hdkc.guest.manager import Manager
    calls = []
    fake = types.SimpleNamespace(app=types.SimpleNamespace(
        upgrade=lambda version, rejoin: calls.append((version, rejoin)),
        restart=lambda rejoin=True: calls.append(('restart', rejoin))))
    Manager.upgrade(fake, None, {'datastore_version': '1.0.47',
                                 'rejoin': False})
    Manager.upgrade(fake, None, {'datastore_version': '1.0.47'})
    Manager.restart_node(fake, None)
    Manager.restart(fake, None)
    assert calls == [('1.0.47', False), ('1.0.47', True),
                     ('restart', False), ('restart', True)]
