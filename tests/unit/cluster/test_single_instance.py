"""trove_k2hdkc.taskmanager.Manager: K2HR3 layout of single instances.

Only Trove's edges are patched: the base Manager's create/delete, the
instance and datastore-version records.
"""

from __future__ import annotations

from unittest import mock

import pytest
from trove.common import exception as trove_exc
from trove.instance.service_status import ServiceStatuses
from trove.instance.tasks import InstanceTasks
from trove.taskmanager import manager as trove_manager

from trove_k2hdkc import conf as k2hdkc_conf
from trove_k2hdkc import taskmanager as tm
from trove_k2hdkc.cluster import taskmanager as cluster_tm
from trove_k2hdkc.cluster.registry import RegistryError
from trove_k2hdkc.k2hr3.access import NodeAccess
from trove_k2hdkc.k2hr3.errors import K2hr3ValueError

IID = '9b2f6c1e-3d4a-4b5c-8d6e-7f8091a2b3c4'
ACCESS = NodeAccess('https://k2hr3', 'yrn:res', 'yrn:role', 'tok')


class FakeRegistry:
    def __init__(self, fail=None):
        self.fail = fail
        self.calls = []

    def provision(self):
        self.calls.append('provision')
        if self.fail == 'provision':
            raise RegistryError('K2HR3 provisioning failed: refused')
        return ACCESS

    def teardown(self):
        self.calls.append('teardown')
        if self.fail == 'teardown':
            raise RegistryError('K2HR3 teardown failed: refused')


@pytest.fixture(autouse=True)
def _explained_only_over_a_db(request, monkeypatch):
    """Tests without Trove's tables do not reach them (the explanation of
    a failed prepare reads the service status)."""
    if 'trove_db' not in request.fixturenames:
        monkeypatch.setattr(tm.Manager, '_explain_failure',
                            lambda self, context, instance_id: None)


@pytest.fixture
def base(monkeypatch):
    """The base Manager's create/delete, recording what they got."""
    seen = {}

    def create(self, context, instance_id, *args, **kwargs):
        seen['create'] = (instance_id, args, kwargs)

    def delete(self, context, instance_id):
        seen.setdefault('order', []).append('trove delete')

    monkeypatch.setattr(trove_manager.Manager, 'create_instance', create)
    monkeypatch.setattr(trove_manager.Manager, 'delete_instance', delete)
    return seen


def make(registry):
    mgr = tm.Manager.__new__(tm.Manager)   # Trove's __init__ reads CONF
    made = []

    def factory(conf, context, layout_id):
        made.append(layout_id)
        return registry
    mgr.registry_factory = factory
    mgr.owner_context_for = lambda ctx, iid: ctx
    return mgr, made


def create(mgr, datastore='k2hdkc', overrides=None, cluster_config=None,
           slave_of_id=None, instance_id=IID):
    mgr.create_instance(
        mock.Mock(), instance_id, 'k1', {'id': 1}, 'img', [], [],
        datastore, None, 1, None, None, None, [], overrides, slave_of_id,
        cluster_config, None, None, None, access=None, ds_version='v')


def overrides_sent(seen):
    _, args, _ = seen['create']
    return args[12]


def test_single_create_provisions_and_passes_access(base):
    reg = FakeRegistry()
    mgr, made = make(reg)
    create(mgr, overrides={'user': 'value'})
    assert made == [IID] and reg.calls == ['provision']
    assert overrides_sent(base) == {
        'user': 'value',
        'k2hr3': {'k2hr3_url': 'https://k2hr3', 'resource_yrn': 'yrn:res',
                  'role_yrn': 'yrn:role', 'role_token': 'tok'}}
    assert base['create'][0] == IID
    assert base['create'][2] == {'access': None, 'ds_version': 'v'}


@pytest.mark.parametrize('kwargs', [
    {'datastore': 'mysql'},
    {'cluster_config': {'id': 'c1', 'instance_type': 'member'}},
    {'slave_of_id': 'master'},
    {'instance_id': [IID, IID]},
])
def test_other_creates_pass_through_untouched(base, kwargs):
    reg = FakeRegistry()
    mgr, made = make(reg)
    create(mgr, overrides={'user': 'value'}, **kwargs)
    assert made == [] and reg.calls == []
    assert overrides_sent(base) == {'user': 'value'}


def test_provision_failure_marks_instance_and_skips_trove(base,
                                                           monkeypatch):
    db = mock.Mock()
    find = mock.Mock(return_value=db)
    monkeypatch.setattr(tm.DBInstance, 'find_by', find)
    mgr, _ = make(FakeRegistry(fail='provision'))
    with pytest.raises(RegistryError):
        create(mgr)
    assert 'create' not in base
    find.assert_called_once_with(id=IID, deleted=False)
    db.set_task_status.assert_called_once_with(
        InstanceTasks.BUILDING_ERROR_SERVER)
    db.save.assert_called_once_with()


def records(monkeypatch, *, manager='k2hdkc', cluster_id=None,
            missing=False):
    def find_by(**conditions):
        if missing:
            raise trove_exc.ModelNotFoundError('gone')
        assert conditions == {'id': IID, 'deleted': False}
        return mock.Mock(cluster_id=cluster_id, datastore_version_id='dv')

    monkeypatch.setattr(tm.DBInstance, 'find_by', find_by)
    monkeypatch.setattr(tm.DatastoreVersion, 'load_by_uuid',
                        lambda uuid: mock.Mock(manager=manager))


def test_single_delete_tears_down_after_trove(base, monkeypatch):
    records(monkeypatch)
    reg = FakeRegistry()
    reg.calls = base.setdefault('order', [])
    mgr, made = make(reg)
    mgr.delete_instance(mock.Mock(), IID)
    assert base['order'] == ['trove delete', 'teardown']
    assert made == [IID]


def test_teardown_failure_is_logged_not_raised(base, monkeypatch, caplog):
    records(monkeypatch)
    reg = FakeRegistry(fail='teardown')
    mgr, _ = make(reg)
    mgr.delete_instance(mock.Mock(), IID)
    assert base['order'] == ['trove delete']
    assert reg.calls == ['teardown']
    assert 'K2HR3 layout was not removed' in caplog.text


@pytest.mark.parametrize('kwargs', [{'manager': 'mysql'},
                                    {'cluster_id': 'c1'},
                                    {'missing': True}])
def test_other_deletes_do_not_touch_k2hr3(base, monkeypatch, kwargs):
    records(monkeypatch, **kwargs)
    reg = FakeRegistry()
    mgr, made = make(reg)
    mgr.delete_instance(mock.Mock(), IID)
    assert base['order'] == ['trove delete']
    assert made == [] and reg.calls == []


def test_trove_delete_failure_keeps_the_layout(base, monkeypatch):
    records(monkeypatch)
    monkeypatch.setattr(trove_manager.Manager, 'delete_instance',
                        mock.Mock(side_effect=RuntimeError('nova down')))
    reg = FakeRegistry()
    mgr, _ = make(reg)
    with pytest.raises(RuntimeError):
        mgr.delete_instance(mock.Mock(), IID)
    assert reg.calls == []


def test_class_loads_as_taskmanager_manager():
    from oslo_utils import importutils
    cls = importutils.import_class('trove_k2hdkc.taskmanager.Manager')
    assert issubclass(cls, trove_manager.Manager)


@pytest.mark.parametrize('overrides, starts', [
    ({}, True),
    ({'replica': 64, 'max_cluster_member_count': 64}, False),
])
def test_taskmanager_start_checks_the_ring_options(monkeypatch, overrides,
                                                   starts):
    """A [k2hdkc] ring setting no cluster could be created with stops the
    taskmanager at start."""
    monkeypatch.setattr(trove_manager.Manager, '__init__',
                        lambda self: None)
    monkeypatch.setattr(cluster_tm, 'start_recovery', lambda: None)
    k2hdkc_conf.register(tm.CONF)
    for name, value in overrides.items():
        tm.CONF.set_override(name, value, group='k2hdkc')
    try:
        if starts:
            tm.Manager()
        else:
            with pytest.raises(K2hr3ValueError, match=r'\[k2hdkc\].*replica'):
                tm.Manager()
    finally:
        for name in overrides:
            tm.CONF.clear_override(name, group='k2hdkc')


# -- a prepare (a restore) that failed says why -------------------------

def built(status):
    """An instance row, its service status, and the fault Trove saves
    when the service ends FAILED (``wait_for_instance``)."""
    from trove.instance.models import DBInstance
    from trove.instance.models import InstanceServiceStatus
    from trove.instance.models import save_instance_fault
    db = DBInstance.create(name='k1', flavor_id='7', tenant_id='p',
                           volume_size=1, datastore_version_id='dsv',
                           task_status=InstanceTasks.BUILDING,
                           compute_instance_id='srv-1')
    InstanceServiceStatus.create(instance_id=db.id, status=status)
    if status != ServiceStatuses.RUNNING:
        save_instance_fault(db.id, 'Service not active, status: failed',
                            'trace')
    return db.id


def fault_of(instance_id):
    from trove.instance.models import DBInstanceFault
    try:
        return DBInstanceFault.find_by(instance_id=instance_id,
                                       deleted=False).message
    except trove_exc.ModelNotFoundError:
        return None


class Guest:
    def __init__(self, reason=None, silent=False):
        self.reason, self.silent, self.asked = reason, silent, 0

    def prepare_failure(self):
        self.asked += 1
        if self.silent:
            raise trove_exc.GuestTimeout('no answer')
        return self.reason


REASON = ('restore from backup b1 failed: segment b1_00000000 of the '
          'backup does not match its checksum (damaged in Swift)')


@pytest.mark.parametrize('status', ['FAILED', 'FAILED_TIMEOUT_GUESTAGENT'])
def test_a_failed_restore_is_the_instance_fault(base, trove_db, status):
    iid = built(getattr(ServiceStatuses, status))
    guest = Guest(REASON)
    mgr, _ = make(FakeRegistry())
    mgr.guest_factory = lambda ctx, instance_id: guest
    create(mgr, instance_id=iid)
    assert guest.asked == 1
    # Trove's save_instance_fault wraps long lines
    assert ' '.join(fault_of(iid).split()) == REASON


def test_a_running_instance_is_not_asked(base, trove_db):
    iid = built(ServiceStatuses.RUNNING)
    guest = Guest(REASON)
    mgr, _ = make(FakeRegistry())
    mgr.guest_factory = lambda ctx, instance_id: guest
    create(mgr, instance_id=iid)
    assert guest.asked == 0
    assert fault_of(iid) is None


@pytest.mark.parametrize('guest', [Guest(silent=True), Guest(None)])
def test_without_a_reason_trove_s_fault_stays(base, trove_db, guest):
    iid = built(ServiceStatuses.FAILED)
    mgr, _ = make(FakeRegistry())
    mgr.guest_factory = lambda ctx, instance_id: guest
    create(mgr, instance_id=iid)
    assert guest.asked == 1
    assert fault_of(iid) == 'Service not active, status: failed'
