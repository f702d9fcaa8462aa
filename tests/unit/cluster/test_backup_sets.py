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
from trove_k2hdkc.backupset import api as setapi
from trove_k2hdkc.backupset import sets
from trove_k2hdkc.backupset import tasks as settasks
from trove_k2hdkc.cluster import ringstate as rs
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
