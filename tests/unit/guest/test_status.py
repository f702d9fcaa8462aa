"""Trove status mapping from runtime facts and chmpx SELFSTATUS."""

from __future__ import annotations

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
