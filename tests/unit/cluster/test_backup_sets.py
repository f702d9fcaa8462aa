"""Cluster backup sets: the tag each member backup carries, ring order,
the restore plan, the bootstrap that restores, and who may see a set."""

from __future__ import annotations

import types

import pytest
from trove.common import exception as trove_exc
from trove.common.context import TroveContext
import webob.exc

from tests.unit.cluster.fakering import Ring
from tests.unit.cluster.test_procedures import ACCESS
from tests.unit.cluster.test_procedures import members
from tests.unit.cluster.test_procedures import procedures
from trove_k2hdkc import conf as k2hdkc_conf
from trove_k2hdkc.backupset import api as setapi
from trove_k2hdkc.backupset import sets
from trove_k2hdkc.backupset import tasks as settasks
from trove_k2hdkc.cluster import ringstate as rs
from trove_k2hdkc.cluster import tasks as k2tasks
from trove_k2hdkc.cluster.procedures import GuestCallError
from trove_k2hdkc.cluster.procedures import ProcedureError

SET = '0b7f3c1e-1111-4d6e-9a55-2f0c4c1b7a01'
CLUSTER = '5e2a9d44-2222-4b1f-8c3e-7d9a0f6e1b02'


def _row(index, count=3, state='COMPLETED', project='p1', bid=None,
         instance='i%d'):
    tag = sets.Tag(SET, index, count, CLUSTER, 'nightly')
    return types.SimpleNamespace(
        id=bid or 'b%d' % index, name='set1', description=tag.description(),
        tenant_id=project, state=state, instance_id=instance % index,
        size=0.5, location='http://s/v1/AUTH_p1/database_backups/b%d.x'
        % index, created='2026-12-05 09:00:0%d' % index, checksum='c%d'
        % index, backup_type='full', storage_driver='swift')


def test_tag_round_trips_and_other_descriptions_are_not_sets():
    tag = sets.Tag(SET, 2, 3, CLUSTER, 'before: upgrade')
    assert sets.parse(tag.description()) == tag
    assert sets.parse(sets.Tag(SET, 1, 1, CLUSTER).description()).text == ''
    # the guest appends why a member backup failed; it stays in its set
    for text in ('', 'nightly'):
        failed = sets.Tag(SET, 1, 2, CLUSTER, text).description() + (
            ' | FAILED: Swift said 503')
        assert sets.parse(failed) == sets.Tag(SET, 1, 2, CLUSTER, text)
        assert sets.failure(failed) == 'Swift said 503'
    for other in (None, '', 'my backup', 'k2hdkc-backup-set x 1/2 of '
                  'cluster y'):
        assert sets.parse(other) is None


def test_ring_order_is_the_instance_id_order():
    ids = ['c3', 'a1', 'b2']
    assert sets.ring_order(ids) == ['a1', 'b2', 'c3']


def test_status_of_a_set():
    def status(*rows):
        return sets.group(list(rows))[SET].status
    assert status(_row(1), _row(2), _row(3)) == sets.COMPLETED
    assert status(_row(1), _row(2, state='BUILDING'), _row(3)) == \
        sets.BUILDING
    assert status(_row(1), _row(2, state='FAILED'), _row(3)) == sets.FAILED
    # a member backup deleted on its own: the set cannot be restored
    assert status(_row(1), _row(3)) == sets.INCOMPLETE
    found = sets.group([_row(3), _row(1), _row(2),
                        types.SimpleNamespace(description='plain',
                                              id='x')])
    assert list(found) == [SET]
    assert [b.id for b in found[SET].ordered()] == ['b1', 'b2', 'b3']
    assert found[SET].view()['members'][0]['backup_id'] == 'b1'


def test_restore_plan_gives_backup_i_to_the_ith_member_in_ring_order(
        monkeypatch):
    rows = {r.id: r for r in (_row(1), _row(2), _row(3))}
    monkeypatch.setattr(settasks.DBBackup, 'find_by',
                        lambda **kw: rows[kw['id']])
    plan = settasks.restore_plan(None, ['n-c', 'n-a', 'n-b'],
                                 ['b1', 'b2', 'b3'])
    assert {m: p['id'] for m, p in plan.items()} == {
        'n-a': 'b1', 'n-b': 'b2', 'n-c': 'b3'}
    assert plan['n-a']['swift_url'] == 'http://s/v1/AUTH_p1'
    assert plan['n-a']['checksum'] == 'c1'
    with pytest.raises(ValueError, match='2 members for a set of 3'):
        settasks.restore_plan(None, ['x', 'y'], ['b1', 'b2', 'b3'])


def test_bootstrap_restores_every_member_before_its_first_start():
    ring = Ring()
    nodes = members(ring, 3)
    ring.k2hr3_hosts = [m.id for m in nodes]
    plan = {m.id: {'id': 'b-' + m.id} for m in nodes}
    procedures(ring).bootstrap(nodes, ACCESS, restore=plan)
    assert {n.code for n in ring.nodes.values()} == {rs.HEALTHY}
    for m in nodes:
        assert ring.nodes[m.id].restored == {'id': 'b-' + m.id}
        assert ring.index(m.id, 'configure_node') < ring.index(
            m.id, 'restore_node') < ring.index(m.id, 'start_node')


def test_a_failed_restore_stops_the_bootstrap_before_any_start():
    ring = Ring()
    nodes = members(ring, 3)
    ring.k2hr3_hosts = [m.id for m in nodes]
    ring.faults[(nodes[1].id, 'restore_node')] = RuntimeError(
        'restore from backup b2 failed: checksum mismatch')
    with pytest.raises(GuestCallError, match='checksum mismatch'):
        procedures(ring).bootstrap(
            nodes, ACCESS, restore={m.id: {} for m in nodes})
    assert 'start_node' not in ring.methods()
    with pytest.raises(ProcedureError, match='no backup for'):
        procedures(ring).bootstrap(nodes, ACCESS,
                                   restore={nodes[0].id: {}})


@pytest.fixture(autouse=True)
def enforcer(monkeypatch):
    """Trove's rules and ours on a configuration of their own (the
    process-wide one is never parsed in unit tests)."""
    from oslo_config import cfg as oslo_cfg
    from oslo_policy import policy as oslo_policy
    from trove.common import policies
    from trove.common import policy
    conf = oslo_cfg.ConfigOpts()
    conf([], default_config_files=[])
    fresh = oslo_policy.Enforcer(conf)
    fresh.register_defaults(policies.list_rules())
    fresh.load_rules()
    monkeypatch.setattr(policy, '_ENFORCER', fresh)
    return fresh


def _ctx(project, admin=False):
    return TroveContext(project_id=project, user_id='u', is_admin=admin,
                        auth_token='t0ken-%s' % project,
                        roles=['admin'] if admin else ['member'])


@pytest.mark.parametrize('project,admin,outcome', [
    ('p1', False, 'ok'),          # the set's own project
    ('p2', True, 'ok'),           # an admin of another project
    ('p2', False, 'not found'),   # anybody else: it does not exist
])
def test_only_the_owning_project_and_admins_see_a_set(
        monkeypatch, project, admin, outcome):
    monkeypatch.setattr(setapi, '_rows', lambda **kw: [
        _row(1), _row(2), _row(3)])
    controller = setapi.BackupSetController()
    if outcome == 'ok':
        assert controller._load(_ctx(project, admin), SET, 'show').id == SET
    else:
        with pytest.raises(webob.exc.HTTPNotFound):
            controller._load(_ctx(project, admin), SET, 'show')


def test_policy_rules_are_registered_and_enforced(enforcer):
    from trove.common import policy
    setapi.register_policy()
    assert set(setapi.RULES.values()) <= set(enforcer.registered_rules)
    with pytest.raises(trove_exc.PolicyNotAuthorized):
        policy.authorize_on_target(_ctx('p2'), setapi.RULES['delete'],
                                   {'tenant': 'p1'})
    policy.authorize_on_target(_ctx('p1'), setapi.RULES['delete'],
                               {'tenant': 'p1'})


def test_bad_bodies_name_what_to_fix():
    with pytest.raises(trove_exc.BadRequest, match='backup_set'):
        setapi._section({'cluster': {}}, 'backup_set')
    with pytest.raises(trove_exc.BadRequest, match='"name"'):
        setapi._string({'name': ' '}, 'name', 10)
    with pytest.raises(trove_exc.BadRequest, match='longer than 3'):
        setapi._string({'name': 'abcd'}, 'name', 3)
    with pytest.raises(trove_exc.BadRequest, match='whole number'):
        setapi.BackupSetController._member({'flavorRef': '1',
                                            'volume': {'size': 'x'}})


def test_the_extension_routes_every_action_and_leaves_trove_alone():
    """Through Trove's own extension middleware, as trove-api builds it
    from the entry point."""
    from unittest import mock

    from trove.common import extensions
    from trove.common import wsgi
    import webob

    seen = []

    class Recording(setapi.BackupSetController):
        def index(self, req, tenant_id):
            seen.append(('index', tenant_id))
            return wsgi.Result({}, 200)

        def show(self, req, tenant_id, id):  # noqa: A002
            seen.append(('show', id))
            return wsgi.Result({}, 200)

        def create(self, req, body, tenant_id):
            seen.append(('create', body))
            return wsgi.Result({}, 202)

        def delete(self, req, tenant_id, id):  # noqa: A002
            seen.append(('delete', id))
            return wsgi.Result(None, 202)

        def restore(self, req, body, tenant_id, id):  # noqa: A002
            seen.append(('restore', id, body))
            return wsgi.Result({}, 200)

    ext = setapi.K2hdkc()
    with mock.patch.object(setapi, 'BackupSetController', Recording), \
            mock.patch.object(setapi, 'register_policy'):
        resources = ext.get_resources()
    manager = mock.Mock(get_resources=lambda: resources,
                        get_actions=lambda: [],
                        get_request_extensions=lambda: [])
    app = extensions.ExtensionMiddleware(webob.Response('trove'), {},
                                         ext_mgr=manager)

    def send(method, path, body=b''):
        req = webob.Request.blank(path, method=method, body=body,
                                  content_type='application/json')
        req.environ['trove.context'] = mock.Mock()
        return req.get_response(app)

    base = '/p1/k2hdkc-backup-sets'
    assert send('GET', base).status_int == 200
    assert send('POST', base, b'{"backup_set": {}}').status_int == 202
    assert send('GET', base + '/s1').status_int == 200
    assert send('POST', base + '/s1/restore',
                b'{"restore": {"name": "c"}}').status_int == 200
    assert send('DELETE', base + '/s1').status_int == 202
    assert send('GET', '/p1/clusters').body == b'trove'
    assert seen == [('index', 'p1'), ('create', {'backup_set': {}}),
                    ('show', 's1'),
                    ('restore', 's1', {'restore': {'name': 'c'}}),
                    ('delete', 's1')]


class _Rows:
    """DBBackup.find_by over rows by id; ``save`` keeps them."""

    def __init__(self, **states):
        self.rows = {b: types.SimpleNamespace(id=b, state=s,
                                              description=None,
                                              save=lambda: None)
                     for b, s in states.items()}

    def find_by(self, **kw):
        return self.rows[kw['id']]


def test_backup_cluster_asks_every_member_waits_and_gives_the_task_back(
        monkeypatch):
    rows = _Rows(b1='NEW', b2='NEW')
    monkeypatch.setattr(settasks.DBBackup, 'find_by', rows.find_by)
    asked = []

    class Member:
        def __init__(self, iid):
            self.iid = iid

        def create_backup(self, info):
            asked.append((self.iid, info['id']))
            if self.iid == 'i2':
                raise RuntimeError('guest gone')
            rows.rows[info['id']].state = 'COMPLETED'

    tasks = types.SimpleNamespace(
        _cast_for=lambda cid, task: True, reset=[],
        db_info=types.SimpleNamespace(tenant_id='p1'))
    tasks.reset_task = lambda: tasks.reset.append(True)
    monkeypatch.setattr(settasks.task_models.BuiltInstanceTasks, 'load',
                        lambda ctx, iid: Member(iid))
    infos = [{'id': 'b1', 'instance_id': 'i1'},
             {'id': 'b2', 'instance_id': 'i2'}]
    k2hdkc_conf.register(settasks.CONF)
    settasks.backup_cluster(tasks, _ctx('p1'), 'c1', infos,
                            k2tasks.BACKING_UP)
    assert asked == [('i1', 'b1'), ('i2', 'b2')]
    assert rows.rows['b1'].state == 'COMPLETED'
    # a member that could not be asked fails its backup, not the others
    assert rows.rows['b2'].state == 'FAILED'
    assert rows.rows['b2'].description == 'FAILED: RuntimeError: guest gone'
    assert tasks.reset == [True]


def test_a_backup_that_never_ends_is_failed_after_the_timeout(monkeypatch):
    rows = _Rows(b1='BUILDING', b2='COMPLETED')
    monkeypatch.setattr(settasks.DBBackup, 'find_by', rows.find_by)
    clock = iter(range(0, 1000, 10))
    states = settasks.wait_ended(['b1', 'b2'], 25, sleep=lambda s: None,
                                 monotonic=lambda: next(clock))
    assert states == {'b1': 'FAILED', 'b2': 'COMPLETED'}
    assert rows.rows['b1'].state == 'FAILED'
