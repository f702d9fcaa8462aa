"""Trove status mapping from runtime facts and chmpx SELFSTATUS."""

from __future__ import annotations

import threading

import pytest
from trove.instance import service_status

from trove_k2hdkc.chmpx.errors import ControlPortUnavailable
from trove_k2hdkc.chmpx.status import parse_node_status
from trove_k2hdkc.guest.status import K2hdkcStatus

S = service_status.ServiceStatuses
TEXT = {
    0x21: '0x21(SAFE -> [SERVICE IN][UP][n/a][Nothing][NoSuspend])',
    0x1021: '0x1021(SAFE -> [SERVICE IN][UP][n/a][Pending][NoSuspend])',
    0x10021: '0x10021(SAFE -> [SERVICE IN][UP][n/a][Nothing][Suspend])',
    0x11: '0x11(SAFE -> [SERVICE OUT][UP][n/a][Nothing][NoSuspend])',
}


class Runtime:
    def __init__(self, chmpx, k2hdkc, wanted):
        self.state = {'chmpx': chmpx, 'k2hdkc': k2hdkc}
        self._wanted = wanted

    def running(self):
        return dict(self.state)

    def wanted(self):
        return self._wanted


def status_of(runtime, code=None):
    def probe():
        if code is None:
            raise ControlPortUnavailable('refused')
        return parse_node_status(TEXT[code])
    return K2hdkcStatus(runtime, probe).get_actual_db_status()


@pytest.mark.parametrize('chmpx,k2hdkc,wanted,code,expected', [
    (True, True, True, 0x21, S.HEALTHY),
    (True, True, True, 0x1021, S.RUNNING),
    (True, True, True, 0x11, S.RUNNING),
    (True, False, True, 0x10021, S.CRASHED),
    (False, False, True, None, S.CRASHED),
    (False, False, False, None, S.SHUTDOWN),
    (True, True, True, None, S.UNKNOWN),
])
def test_mapping(chmpx, k2hdkc, wanted, code, expected):
    assert status_of(Runtime(chmpx, k2hdkc, wanted), code) == expected


class RecordingStatus(K2hdkcStatus):
    READY_REANNOUNCE_DELAY = 0.01

    def __init__(self, tmp_path):
        super().__init__(Runtime(True, True, True), lambda: None,
                         guestagent_dir=str(tmp_path))
        self.sent = []
        self.sent_twice = threading.Event()

    def set_status(self, status, force=False):
        self.sent.append(status)
        self.status = status
        if self.sent.count(S.INSTANCE_READY) == 2:
            self.sent_twice.set()


def test_cluster_member_announces_instance_ready_twice(tmp_path):
    # Trove 26's conductor can drop one of two simultaneous first
    # heartbeats; the re-announcement makes INSTANCE_READY arrive anyway.
    status = RecordingStatus(tmp_path)
    status.end_install(post_processing=True)
    assert status.sent_twice.wait(5)
    assert status.sent == [S.INSTANCE_READY, S.INSTANCE_READY]


def test_no_reannouncement_after_cluster_complete(tmp_path):
    status = RecordingStatus(tmp_path)
    status.READY_REANNOUNCE_DELAY = 0.3
    status.end_install(post_processing=True)
    status.set_ready()          # what cluster_complete's end_install does
    status.set_status(S.HEALTHY)
    assert not status.sent_twice.wait(1.0)
    assert status.sent == [S.INSTANCE_READY, S.HEALTHY]


def test_every_check_reaching_chmpx_is_observed():
    seen = []
    runtime = Runtime(True, True, True)
    status = K2hdkcStatus(runtime, lambda: parse_node_status(TEXT[0x1021]),
                          observe=seen.append)
    assert status.get_actual_db_status() == S.RUNNING
    runtime.state['k2hdkc'] = False
    assert status.get_actual_db_status() == S.CRASHED
    assert [s and s.code for s in seen] == [0x1021, None]


def test_a_failing_observer_does_not_break_the_heartbeat():
    def boom(node):
        raise RuntimeError('bug')
    status = K2hdkcStatus(Runtime(True, True, True),
                          lambda: parse_node_status(TEXT[0x21]),
                          observe=boom)
    assert status.get_actual_db_status() == S.HEALTHY
