"""API strategy validation: each refusal is a 400 that says what to fix."""

from __future__ import annotations

from unittest import mock

import pytest
from trove.cluster.models import DBCluster
from trove.cluster.tasks import ClusterTasks
from trove.common import cfg
from trove.common import exception

from trove_k2hdkc import conf as k2hdkc_conf
from trove_k2hdkc.cluster import api
from trove_k2hdkc.cluster import faults
from trove_k2hdkc.cluster.registry import RegistryError
from trove_k2hdkc.k2hr3.errors import K2hr3ConnectionError
from trove_k2hdkc.k2hr3.errors import K2hr3ValueError
from trove_k2hdkc.k2hr3.settings import ClusterSettings

CONF = cfg.CONF
NOWHERE = api.placement.Placement(frozenset(), None, frozenset())


@pytest.fixture(autouse=True)
def opts():
    k2hdkc_conf.register(CONF)
    CONF.set_override('min_cluster_member_count', 2, group='k2hdkc')
    CONF.set_override('max_cluster_member_count', 4, group='k2hdkc')
    CONF.set_override('replica', 1, group='k2hdkc')
    patches = [mock.patch.object(api.cluster_models, name)
               for name in ('validate_instance_flavors',
                            'validate_instance_nics')]
    patches.append(mock.patch.object(api, 'check_quotas'))
    # Nova and Neutron know nothing of these members (test_placement).
    patches.append(mock.patch.object(api.placement, 'of_members',
                                     return_value=NOWHERE))
    patches.append(mock.patch.object(api.placement, 'server_group',
                                     return_value=None))
    for p in patches:
        p.start()
    yield
    for p in patches:
        p.stop()
    for name in ('min_cluster_member_count', 'max_cluster_member_count',
                 'replica'):
        CONF.clear_override(name, group='k2hdkc')


def spec(count, flavor='7', size=2):
    return [{'flavor_id': flavor, 'volume_size': size} for _ in range(count)]


def dsv(image_id='img-1'):
    return mock.Mock(manager='k2hdkc', image_id=image_id, id='dsv')


def create(instances, **kw):
    args = dict(extended_properties=None, locality=None, configuration=None)
    args.update(kw)
    return api.K2hdkcCluster.create(
        mock.Mock(project_id='p'), 'c1', mock.Mock(), dsv(), instances,
        args['extended_properties'], args['locality'],
        args['configuration'])


@pytest.mark.parametrize('instances, kw, text', [
    (spec(1), {}, 'at least 2 members'),
    (spec(5), {}, 'at most 4 members'),
    (spec(1, '7') + spec(1, '8'), {}, 'flavor'),
    ([{'flavor_id': '7'}, {'flavor_id': '7'}], {}, 'volume size is required'),
    (spec(1, size=2) + spec(1, size=3), {}, 'volume size'),
    (spec(2), {'extended_properties': {'x': 1}}, 'extended properties'),
    (spec(2), {'configuration': 'cfg-1'}, 'configuration groups'),
    (spec(1) + [dict(spec(1)[0], region_name='RegionTwo')], {},
     'one region_name: got RegionOne (member 1); RegionTwo (member 2)'),
    (spec(2) + [dict(spec(1)[0], availability_zone='az2')], {},
     'one availability_zone: got none (members 1, 2); az2 (member 3)'),
])
def test_create_refusals_are_400(instances, kw, text):
    with mock.patch.object(api.cluster_models.DBCluster, 'create') as db:
        with pytest.raises(exception.BadRequest) as err:
            create(instances, **kw)
    assert text in str(err.value)
    db.assert_not_called()


@mock.patch.object(api.task_api, 'load')
@mock.patch.object(api.Instance, 'create')
@mock.patch.object(api.cluster_models.DBCluster, 'create')
def test_create_members_and_cast(db_create, inst_create, tm_load):
    db_create.return_value = mock.Mock(id='cid')
    db_create.return_value.name = 'c1'
    cluster = create(spec(3))
    assert inst_create.call_count == 3
    for call in inst_create.call_args_list:
        assert call.kwargs['cluster_config'] == {'id': 'cid',
                                                 'instance_type': 'member'}
        assert call.args[3] == 'img-1'
    tm_load.return_value.create_cluster.assert_called_once_with('cid')
    assert cluster.db_info is db_create.return_value


@pytest.mark.parametrize('fail_at, error, code', [
    ('cast', RuntimeError('mq'), 503),
    ('second member', exception.FlavorNotFound(uuid='9'), None),
    ('first member', RuntimeError('nova'), 503),
])
@mock.patch.object(api.K2hdkcCluster, 'delete', autospec=True)
@mock.patch.object(api.task_api, 'load')
@mock.patch.object(api.Instance, 'create')
@mock.patch.object(api.cluster_models.DBCluster, 'create')
def test_create_failure_deletes_what_it_made(db_create, inst_create, tm_load,
                                            delete, fail_at, error, code):
    """A create that fails part way leaves no cluster behind (it was
    left with task NONE and the members made so far), and a failure
    that is not the request's is a 503, not a 500."""
    db_create.return_value = mock.Mock(id='cid')
    db_create.return_value.name = 'c1'
    if fail_at == 'cast':
        tm_load.return_value.create_cluster.side_effect = error
    elif fail_at == 'second member':
        inst_create.side_effect = [mock.Mock(id='m0'), error]
    else:
        inst_create.side_effect = error
    with pytest.raises(Exception) as err:
        create(spec(2))
    if code is None:    # Trove's own error, answered as Trove maps it
        assert err.value is error
    else:
        assert err.value.code == code, err.value
        assert str(error) in err.value.detail
        assert 'being deleted' in err.value.detail
    db_create.return_value.update.assert_called_once_with(
        task_status=ClusterTasks.NONE)
    (deleted,), _ = delete.call_args
    assert deleted.db_info is db_create.return_value


class Recorded:
    """The cluster's K2HR3 record of its ring parameters."""

    def __init__(self, replica=1, error=None):
        self.replica, self.error, self.reads = replica, error, 0

    def ring_settings(self):
        self.reads += 1
        if self.error is not None:
            raise self.error
        return ClusterSettings(replica=self.replica)


def db_row(task=ClusterTasks.NONE):
    return DBCluster.create(name='c1', tenant_id='p',
                            datastore_version_id='dsv', task_status=task,
                            configuration_id=None)


def task_in_db(cluster_id):
    return DBCluster.find_by(id=cluster_id).task_status


def cluster(task=ClusterTasks.NONE, members=3, row=None, recorded=None):
    """A cluster over a real ``clusters`` row (the claim is SQL); its
    members are plain mocks."""
    row = row or db_row(task)
    c = api.K2hdkcCluster(mock.Mock(project_id='p'),
                          DBCluster.find_by(id=row.id), mock.Mock(), dsv())
    dbs = [mock.Mock(id='i%d' % i, flavor_id='7', volume_size=2)
           for i in range(members)]
    c._members = lambda: dbs
    c.recorded = recorded or Recorded()
    c.registry_factory = lambda conf, context, cid: c.recorded
    return c


@pytest.fixture(autouse=True)
def _db(trove_db):
    """Every test here may touch the ``clusters`` table."""


def test_grow_refused_while_busy():
    c = cluster(ClusterTasks.SHRINKING_CLUSTER)
    with pytest.raises(faults.ClusterBusy) as err:
        c.grow(spec(1))
    assert err.value.code == 409
    assert 'SHRINKING_CLUSTER' in err.value.detail
    assert task_in_db(c.id) == ClusterTasks.SHRINKING_CLUSTER


@pytest.mark.parametrize('instances, text', [
    (spec(1, flavor='8'), 'flavor'),
    (spec(1, size=5), 'volume size'),
    (spec(2), 'at most 4 members'),
    ([{'flavor_id': '7', 'volume_size': 2, 'instance_type': ['slave']}],
     "type 'member'"),
])
def test_grow_refusals_are_400(instances, text):
    c = cluster()
    with pytest.raises(exception.BadRequest) as err:
        c.grow(instances)
    assert text in str(err.value)
    assert task_in_db(c.id) == ClusterTasks.NONE


@mock.patch.object(api.srv_grp.ServerGroup, 'convert_to_hint')
@mock.patch.object(api.task_api, 'load')
@mock.patch.object(api.Instance, 'create')
def test_grow_casts_new_ids(inst_create, tm_load, hint):
    inst_create.return_value = mock.Mock(id='new')
    c = cluster()
    with mock.patch.object(api.K2hdkcCluster, 'server_group', None):
        c.grow(spec(1), image_id='img-2')
    tm_load.return_value.grow_cluster.assert_called_once_with(c.id, ['new'])
    assert task_in_db(c.id) == ClusterTasks.GROWING_CLUSTER


@pytest.mark.parametrize('ids, text', [
    (['nope'], 'Not members'),
    (['i0', 'i0'], 'once'),
    (['i0', 'i1'], 'at most 1 member'),
    ([], 'at least one'),
])
def test_shrink_refusals_are_400(ids, text):
    c = cluster()
    with pytest.raises(exception.BadRequest) as err:
        c.shrink(ids)
    assert text in str(err.value)


def test_shrink_below_minimum_is_400():
    c = cluster(members=2)
    with pytest.raises(exception.BadRequest) as err:
        c.shrink(['i0'])
    assert 'at least 2 members' in str(err.value)


@pytest.mark.parametrize('recorded, conf_replica, allowed', [
    (2, 1, True),      # created with REPLICA 2, trove.conf now 1
    (1, 2, False),     # created with REPLICA 1, trove.conf now 2
])
@mock.patch.object(api.task_api, 'load')
def test_shrink_limit_is_the_recorded_replica(tm_load, recorded,
                                              conf_replica, allowed):
    CONF.set_override('replica', conf_replica, group='k2hdkc')
    c = cluster(members=4, recorded=Recorded(recorded))
    if allowed:
        c.shrink(['i2', 'i3'])
        tm_load.return_value.shrink_cluster.assert_called_once_with(
            c.id, ['i2', 'i3'])
    else:
        with pytest.raises(exception.BadRequest, match='REPLICA = 1'):
            c.shrink(['i2', 'i3'])
        assert task_in_db(c.id) == ClusterTasks.NONE
        tm_load.assert_not_called()


@mock.patch.object(api.task_api, 'load')
def test_one_leaver_needs_no_k2hr3_read(tm_load):
    c = cluster(recorded=Recorded(error=AssertionError('no read')))
    c.shrink(['i2'])
    assert c.recorded.reads == 0


@pytest.mark.parametrize('cause, user_fixable', [
    (K2hr3ValueError('chmpx-replica is str'), True),
    (K2hr3ConnectionError('no reply'), False),
])
def test_unreadable_record_refuses_the_shrink(cause, user_fixable):
    """A record the project's user broke is a 400; K2HR3 not answering
    is no fault of the request."""
    error = RegistryError('K2HR3: %s' % cause)
    error.__cause__ = cause
    c = cluster(members=4, recorded=Recorded(error=error))
    with pytest.raises(exception.TroveError,
                       match='ring parameters of cluster %s' % c.id) as info:
        c.shrink(['i2', 'i3'])
    assert isinstance(info.value, exception.BadRequest) is user_fixable
    assert task_in_db(c.id) == ClusterTasks.NONE


@mock.patch.object(api.Instance, 'create')
def test_grow_with_an_edited_record_is_400_before_any_member(inst_create):
    """The project's user edited the template or a recorded key: the
    grow is refused naming it before a member is built."""
    cause = K2hr3ValueError('the INI template in K2HR3 resource k2hdkc-x '
                            'is not the one Trove wrote (line 120 '
                            '(ATTRPLUGIN))')
    error = RegistryError('K2HR3: %s' % cause)
    error.__cause__ = cause
    c = cluster(recorded=Recorded(error=error))
    with pytest.raises(exception.BadRequest, match=r'\(ATTRPLUGIN\)'):
        c.grow(spec(1))
    assert c.recorded.reads == 1
    inst_create.assert_not_called()
    assert task_in_db(c.id) == ClusterTasks.NONE


def test_unusable_k2hr3_configuration_is_no_400():
    """``[k2hdkc] k2hr3_api_url`` unset is the operator's to fix, not the
    request's: not a 400, and the task is not taken."""
    cause = K2hr3ValueError('[k2hdkc] k2hr3_api_url is not set')
    error = RegistryError('K2HR3 is not usable as configured: %s' % cause)
    error.__cause__ = cause
    c = cluster()

    def factory(conf, context, cid):
        raise error
    c.registry_factory = factory
    with pytest.raises(exception.TroveError,
                       match='k2hr3_api_url is not set') as info:
        c.grow(spec(1))
    assert not isinstance(info.value, exception.BadRequest)
    assert task_in_db(c.id) == ClusterTasks.NONE


@mock.patch.object(api.task_api, 'load')
def test_shrink_cast_failure_resets_task(tm_load):
    tm_load.return_value.shrink_cluster.side_effect = RuntimeError('mq')
    c = cluster()
    with pytest.raises(RuntimeError):
        c.shrink(['i2'])
    assert task_in_db(c.id) == ClusterTasks.NONE


def test_strategy_names_classes():
    s = api.K2hdkcAPIStrategy()
    assert s.cluster_class is api.K2hdkcCluster
    assert s.cluster_view_class is api.K2hdkcClusterView
    assert s.mgmt_cluster_view_class is api.K2hdkcMgmtClusterView


HERE = api.placement.Placement(frozenset({'net-a'}), 'RegionOne',
                               frozenset({'az1'}))


@pytest.mark.parametrize('extra, text', [
    ({'nics': [{'network_id': 'net-b'}]}, 'expected net-a'),
    ({'availability_zone': 'az9'}, 'availability_zone: got az9, '
     'expected az1'),
])
@mock.patch.object(api.Instance, 'create')
def test_grow_elsewhere_is_400_and_changes_nothing(inst_create, extra, text):
    c = cluster()
    with mock.patch.object(api.placement, 'of_members', return_value=HERE):
        with pytest.raises(exception.BadRequest) as err:
            c.grow([dict(spec(1)[0], **extra)])
    assert text in str(err.value)
    inst_create.assert_not_called()
    assert task_in_db(c.id) == ClusterTasks.NONE


@mock.patch.object(api.task_api, 'load')
@mock.patch.object(api.Instance, 'create')
def test_grow_joins_the_cluster_server_group_where_the_cluster_is(
        inst_create, tm_load):
    inst_create.return_value = mock.Mock(id='new')
    c = cluster(members=2)
    group = mock.Mock(id='sg-1')
    with mock.patch.object(api.placement, 'of_members', return_value=HERE), \
            mock.patch.object(api.placement, 'server_group',
                              return_value=group):
        c.grow(spec(2))
    for call in inst_create.call_args_list:
        assert call.kwargs['locality'] == {'group': 'sg-1'}
        assert call.kwargs['availability_zone'] == 'az1'
        assert call.kwargs['nics'] == [{'network_id': 'net-a'}]
        assert call.kwargs['region_name'] == 'RegionOne'


def test_placement_unknown_is_503_and_changes_nothing():
    c = cluster()
    with mock.patch.object(api.placement, 'of_members',
                           side_effect=RuntimeError('nova down')):
        with pytest.raises(faults.GrowFailed) as err:
            c.grow(spec(1))
    assert err.value.code == 503 and 'nova down' in err.value.detail
    assert task_in_db(c.id) == ClusterTasks.NONE


def test_cluster_server_group_is_found_by_its_members():
    """Trove's own lookup (by member id) never finds it, so delete left
    the group behind and grow used none."""
    c = cluster()
    group = mock.Mock(id='sg-1')
    with mock.patch.object(api.placement, 'server_group',
                           return_value=group) as find:
        assert c.server_group is group
    assert find.call_args.args[1] == c._members()
