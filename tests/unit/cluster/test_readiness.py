"""A create's or grow's wait for its members stops at once on a member
whose build or Nova server failed or vanished, and is bounded
(cluster/readiness.py)."""

from __future__ import annotations

from unittest import mock

import pytest
from trove.common import exception as trove_exc
from trove.instance.models import DBInstance
from trove.instance.models import InstanceServiceStatus
from trove.instance.service_status import ServiceStatuses
from trove.instance.tasks import InstanceTasks

from trove_k2hdkc.cluster import readiness
from trove_k2hdkc.cluster.errors import ProcedureError


class Clock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def run(states, timeout=100.0):
    clock = Clock()
    readiness.wait(sorted(states), lambda i: states[i](clock.now),
                   timeout=timeout, interval=5.0, sleep=clock.sleep,
                   monotonic=lambda: clock.now)
    return clock


def test_returns_once_every_member_is_ready():
    clock = run({'a': lambda t: readiness.READY,
                 'b': lambda t: readiness.READY if t >= 10 else None})
    assert clock.sleeps == [5.0, 5.0]


def test_a_failed_member_ends_the_wait_at_once_and_is_named():
    with pytest.raises(ProcedureError) as err:
        run({'a': lambda t: None if t < 5 else 'its Nova server s is gone',
             'b': lambda t: None})
    assert str(err.value) == ('wait for members: member a will not become '
                              'ready: its Nova server s is gone')


def test_the_wait_is_bounded_and_names_who_is_late():
    with pytest.raises(ProcedureError, match='members a, b did not become '
                       'ready within 12.0s'):
        run({'a': lambda t: None, 'b': lambda t: None}, timeout=12.0)


@pytest.fixture
def member(trove_db):
    db = DBInstance.create(name='m', flavor_id='7', tenant_id='p',
                           volume_size=2, datastore_version_id='dsv',
                           task_status=InstanceTasks.BUILDING,
                           compute_instance_id='srv-1', type='member')
    InstanceServiceStatus.create(instance_id=db.id,
                                 status=ServiceStatuses.NEW)
    return db.id


def server(status, fault=None):
    with_fault = {'fault': fault} if fault else {}
    return mock.Mock(status=status, **with_fault)


def state_with(instance_id, found):
    with mock.patch.object(readiness.inst_models, 'load_server',
                           side_effect=found) as load:
        return readiness.trove_state(mock.Mock(), instance_id), load


def test_a_vanished_server_is_why(member):
    gone = trove_exc.ComputeInstanceNotFound(instance_id=member,
                                             server_id='srv-1')
    assert state_with(member, gone)[0] == 'its Nova server srv-1 is gone'


def test_a_server_in_error_is_why_with_novas_fault(member):
    why, _ = state_with(member, [server('ERROR', {'message': 'host lost'})])
    assert why == 'its Nova server srv-1 is ERROR: host lost'


def test_a_building_server_or_a_silent_nova_means_wait(member):
    assert state_with(member, [server('BUILD')])[0] is None
    assert state_with(member, trove_exc.TroveError('503'))[0] is None


def test_ready_and_failed_come_from_trove_first(member):
    status = InstanceServiceStatus.find_by(instance_id=member)
    status.set_status(ServiceStatuses.INSTANCE_READY)
    status.save()
    why, load = state_with(member, [server('ERROR')])
    assert why == readiness.READY
    load.assert_not_called()
    status.set_status(ServiceStatuses.FAILED_TIMEOUT_GUESTAGENT)
    status.save()
    why, _ = state_with(member, [server('ACTIVE')])
    assert why == 'Trove reports ERROR (task BUILDING)'
    # Nova's own reason is added when it has one
    why, _ = state_with(member, [server('ERROR', {'message': 'no host'})])
    assert why == ('Trove reports ERROR (task BUILDING); its Nova server '
                   'srv-1 is ERROR: no host')
