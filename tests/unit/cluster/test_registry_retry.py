"""K2HR3 host removal of a shrink is retried while K2HR3 fails
transiently, as the teardown is (the fault matrix's shrink:k2hr3-remove
k2hr3-5xx cell left the leaver listed, in error, for a second shrink)."""

from __future__ import annotations

import types

import pytest

from trove_k2hdkc.cluster import registry
from trove_k2hdkc.cluster.model import Member
from trove_k2hdkc.k2hr3.errors import K2hr3HTTPError

LEAVER = Member('inst-3', '10.0.0.3')


class Objects:
    """``ClusterK2hr3`` whose host removal fails ``failures`` times."""

    names = types.SimpleNamespace(cluster_id='c1')

    def __init__(self, failures, status=503):
        self.failures, self.status = failures, status
        self.removed, self.calls = [], 0

    def remove_member(self, kind, host, cuk, *, port=0):
        self.calls += 1
        if self.failures:
            self.failures -= 1
            raise K2hr3HTTPError(self.status, 'DELETE', '/v1/role/x', 'busy')
        self.removed.append(cuk)


def _registry(objects, waits):
    return registry.K2hr3Registry(objects=objects, api_url='https://k',
                                  teardown_attempts=4, teardown_backoff=2.0,
                                  sleep=waits.append)


def test_removal_is_run_again_while_k2hr3_answers_5xx():
    objects, waits = Objects(failures=2), []
    _registry(objects, waits).remove_servers([LEAVER])
    assert objects.removed == ['inst-3']
    assert waits == [2.0, 4.0]


def test_removal_gives_up_after_the_attempts_naming_the_error():
    objects, waits = Objects(failures=10), []
    with pytest.raises(registry.RegistryError,
                       match='K2HR3 remove server hosts failed: .*HTTP 503'):
        _registry(objects, waits).remove_servers([LEAVER])
    assert objects.calls == 4 and waits == [2.0, 4.0, 8.0]


def test_a_lasting_error_is_not_retried():
    objects, waits = Objects(failures=1, status=403), []
    with pytest.raises(registry.RegistryError, match='HTTP 403'):
        _registry(objects, waits).remove_servers([LEAVER])
    assert objects.calls == 1 and waits == []
