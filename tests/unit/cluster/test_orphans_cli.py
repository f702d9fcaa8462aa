"""``trove-k2hdkc-orphans`` against the K2HR3 stand-in: orphans are
listed, ``--delete`` removes them, owned objects stay untouched
(doc/k2hr3-layout.md §6)."""

from __future__ import annotations

import configparser
import io
import os
import subprocess
import sys

import pytest
from trove.cluster.models import DBCluster
from trove.cluster.tasks import ClusterTasks
from trove.common import cfg

from tests.conftest import REPO_ROOT
from tests.standins.k2hr3.fixture import k2hr3_standin  # noqa: F401
from tests.unit.cluster.test_delete_owner import Ctx
from trove_k2hdkc import k2hr3
from trove_k2hdkc.cluster import registry as reg
from trove_k2hdkc.cmd import k2hr3_orphans as cli
from trove_k2hdkc.k2hr3 import orphans
from trove_k2hdkc.k2hr3.errors import K2hr3LeftBehindError
from trove_k2hdkc.k2hr3.transport import ClientSettings

OWNED = '11111111-1111-4111-8111-111111111111'
GONE = '22222222-2222-4222-8222-222222222222'
SINGLE_GONE = '33333333-3333-4333-8333-333333333333'
# A live cluster of project p2 whose id also names objects in p1.
ELSEWHERE = '44444444-4444-4444-8444-444444444444'
P1, P2 = 'proj1', 'proj2'
OWNERS = {(P1, OWNED), (P2, ELSEWHERE)}


@pytest.fixture
def standin(k2hr3_standin, conf):  # noqa: F811
    k2hr3_standin.add_keystone_token('ks-trove', 'trove', [P1, P2])
    k2hr3_standin.add_keystone_token('ks-p1', 'alice', [P1])
    k2hr3_standin.add_keystone_token('ks-p2', 'bob', [P2])
    conf.set_override('k2hr3_api_url', k2hr3_standin.url, group='k2hdkc')
    conf.set_override('k2hr3_allow_insecure_http', True, group='k2hdkc')
    for project, token, ids in ((P1, 'ks-p1', (OWNED, GONE, ELSEWHERE)),
                                (P2, 'ks-p2', (SINGLE_GONE,))):
        for cid in ids:
            reg.registry_from_conf(conf, Ctx(project, token),
                                   cid).provision()
    return k2hr3_standin


def client(standin):
    return k2hr3.build_client(ClientSettings(base_url=standin.url,
                                             allow_http=True, retries=0))


def ids_in(standin, tenant):
    snap = standin.snapshot(tenant)
    return {n.split('/')[0] for n in snap['resources'] + snap['policies']
            + snap['roles']}


def listed(text):
    return {line.split()[5].rstrip(':')[len('k2hdkc-'):]
            for line in text.splitlines() if line.startswith('ORPHAN')}


def test_lists_orphans_and_changes_nothing(standin):
    before = (standin.snapshot(P1), standin.snapshot(P2))
    out = io.StringIO()
    assert cli.run(client(standin), 'ks-trove', OWNERS, False, out) == 0
    assert listed(out.getvalue()) == {GONE, SINGLE_GONE, ELSEWHERE}
    assert ('ORPHAN   tenant proj2 (project proj2) k2hdkc-%s: role '
            'k2hdkc-%s/server (0 members, 1 tokens)'
            % (SINGLE_GONE, SINGLE_GONE)) in out.getvalue()
    assert '3 orphan(s) in 2 of 2 tenant(s) scanned; --delete removes ' \
        'them' in out.getvalue()
    assert (standin.snapshot(P1), standin.snapshot(P2)) == before
    assert 'ks-trove' not in out.getvalue()


def test_delete_removes_orphans_and_leaves_owned_objects(standin):
    owned_before = standin.snapshot(P1)
    out = io.StringIO()
    assert cli.run(client(standin), 'ks-trove', OWNERS, True, out) == 0
    text = out.getvalue()
    assert {line.split()[3][len('k2hdkc-'):] for line in text.splitlines()
            if line.startswith('DELETED')} == {GONE, SINGLE_GONE, ELSEWHERE}
    assert ids_in(standin, P1) == {'k2hdkc-' + OWNED}
    assert ids_in(standin, P2) == set()
    after = standin.snapshot(P1)
    assert after['role_tokens'] == 2
    assert after['resources'] == [r for r in owned_before['resources']
                                  if OWNED in r]
    again = io.StringIO()
    assert cli.run(client(standin), 'ks-trove', OWNERS, False, again) == 0
    assert listed(again.getvalue()) == set()


def test_a_removal_that_leaves_objects_fails(standin, monkeypatch):
    def refuse(client, tenant, orphan):
        raise K2hr3LeftBehindError(['policy k2hdkc-' + orphan.owner_id])
    monkeypatch.setattr(orphans, 'remove', refuse)
    out = io.StringIO()
    assert cli.run(client(standin), 'ks-trove', OWNERS, True, out) == 1
    assert 'FAILED   tenant proj1 k2hdkc-%s: K2HR3 still holds: policy ' \
        'k2hdkc-%s' % (GONE, GONE) in out.getvalue()


def test_a_keystone_token_k2hr3_refuses_fails(standin):
    err = io.StringIO()
    assert cli.run(client(standin), 'not-a-token', OWNERS, False,
                   io.StringIO(), err) == 2
    assert 'could not log in to K2HR3' in err.getvalue()


def test_entry_point_is_declared():
    setup = configparser.ConfigParser()
    setup.read(REPO_ROOT / 'setup.cfg')
    scripts = setup['entry_points']['console_scripts']
    assert ('trove-k2hdkc-orphans = trove_k2hdkc.cmd.k2hr3_orphans:main'
            in scripts.strip().splitlines())


def test_script_reads_owners_from_troves_database(standin, conf, trove_db,
                                                  tmp_path):
    """The whole script, as an operator runs it: trove.conf, OS_TOKEN."""
    row = DBCluster.create(name='c1', tenant_id=P1,
                           task_status=ClusterTasks.NONE,
                           datastore_version_id='dsv', configuration_id=None)
    reg.registry_from_conf(conf, Ctx(P1, 'ks-p1'), row.id).provision()
    conf_file = tmp_path / 'trove.conf'
    conf_file.write_text(
        '[database]\nconnection = %s\n[k2hdkc]\nk2hr3_api_url = %s\n'
        'k2hr3_allow_insecure_http = true\n'
        % (cfg.CONF.database.connection, standin.url))
    env = dict(os.environ, OS_TOKEN='ks-trove', PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.run(
        [sys.executable, '-m', 'trove_k2hdkc.cmd.k2hr3_orphans',
         '--config-file', str(conf_file)],
        capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    got = listed(proc.stdout)
    assert row.id not in got
    assert {OWNED, GONE, SINGLE_GONE, ELSEWHERE} <= got
    assert 'ks-trove' not in proc.stdout + proc.stderr


def test_script_without_k2hr3_exits_2(tmp_path, trove_db):
    conf_file = tmp_path / 'trove.conf'
    conf_file.write_text(
        '[database]\nconnection = %s\n[k2hdkc]\n'
        'k2hr3_api_url = http://127.0.0.1:9\n'
        'k2hr3_allow_insecure_http = true\nk2hr3_retries = 0\n'
        % cfg.CONF.database.connection)
    env = dict(os.environ, OS_TOKEN='ks', PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.run(
        [sys.executable, '-m', 'trove_k2hdkc.cmd.k2hr3_orphans',
         '--config-file', str(conf_file)],
        capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 2
    assert 'could not log in to K2HR3' in proc.stderr


def test_rig_orphan_check_of_the_fault_matrix(standin, monkeypatch):
    """``cluster.k2hr3_orphans``, which ends the fault matrix, reports
    what no live cluster or instance of the rig project owns."""
    from tests.rig import cli as rig_cli
    from tests.rig import cluster as rig_cluster

    def openstack(info, *args, **kwargs):
        return [{'ID': OWNED}] if args[1] == 'cluster' else []
    monkeypatch.setattr(rig_cli, 'openstack', openstack)
    info = {'k2hr3_api_url': standin.url, 'owner_token': 'ks-p1',
            'project_id': P1}
    got = rig_cluster.k2hr3_orphans(info)
    assert sorted(line.split()[1].rstrip(':') for line in got) == sorted(
        'k2hdkc-' + i for i in (GONE, ELSEWHERE))
