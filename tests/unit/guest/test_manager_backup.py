"""Manager.create_backup reports to the conductor; a single instance
created from a backup restores before its node first starts."""

from __future__ import annotations

import subprocess
import types

import pytest

from tests.unit.guest.conffix import guest_conf  # noqa: F401
from trove_k2hdkc.guest import backup as gbackup
from trove_k2hdkc.guest import manager as k2manager

CTX = types.SimpleNamespace(auth_token='user-t0ken')


@pytest.fixture
def mgr(guest_conf, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(k2manager.Manager, 'GUEST_LOG_BASE_DIR',
                        str(tmp_path / 'log'))
    manager = k2manager.Manager()
    manager.resume_thread.join(10)
    yield manager
    manager.app.runtime.close()


class Conductor:
    updates: list = []

    def __init__(self, context):
        assert context is CTX

    def update_backup(self, instance_id, sent, **fields):
        self.updates.append((instance_id, dict(fields)))


def _program(stdout, rc=0):
    calls = []

    def run(argv, **kwargs):
        calls.append(argv)
        return subprocess.CompletedProcess(argv, rc, stdout=stdout)
    return run, calls


def test_create_backup_reports_building_then_completed(mgr, monkeypatch):
    monkeypatch.setattr(k2manager.conductor_api, 'API', Conductor)
    Conductor.updates = []
    mgr.backups.run, calls = _program(
        'x INFO Stored 2147483648 bytes\n'
        'x INFO Backup successfully, checksum: abc, location: '
        'http://s/v1/A/database_backups/b1.k2har.gz\n')
    mgr.create_backup(CTX, {'id': 'b1', 'swift_url': 'http://s/v1/A',
                            'datastore': 'k2hdkc',
                            'datastore_version': '1.0.16'})
    guest = '3f0a5e2c-1b7d-4e8a-9c6b-2d4f8a1e7c90'
    assert [(i, f['state']) for i, f in Conductor.updates] == [
        (guest, 'BUILDING'), (guest, 'COMPLETED')]
    done = Conductor.updates[-1][1]
    assert done['checksum'] == 'abc' and done['size'] == 2.0
    assert done['location'].endswith('/b1.k2har.gz')
    [argv] = calls
    assert '--backup' in argv and '--backup-id=b1' in argv
    assert '--os-token=user-t0ken' in argv
    assert '--driver=k2hdkcbackup' in argv
    assert '--swift-container=database_backups' in argv
    assert any(a.startswith('--k2hdkc-conf=') and a.endswith('k2hdkc.ini')
               for a in argv)


def test_create_backup_failure_is_reported_and_raised(mgr, monkeypatch):
    monkeypatch.setattr(k2manager.conductor_api, 'API', Conductor)
    Conductor.updates = []
    mgr.backups.run, _ = _program('x\nException: Swift said 503\n', rc=1)
    with pytest.raises(gbackup.BackupError, match='Swift said 503'):
        mgr.create_backup(CTX, {'id': 'b2', 'swift_url': 'http://s/v1/A',
                                'description': 'before upgrade'})
    assert [f['state'] for _, f in Conductor.updates] == ['BUILDING',
                                                          'FAILED']
    # backup show prints the description: the reason goes there
    assert Conductor.updates[-1][1]['description'] == (
        'before upgrade | FAILED: Swift said 503')


def test_docker_runtime_reports_failed_with_the_reason(
        guest_conf, tmp_path, monkeypatch):  # noqa: F811
    guest_conf('node_runtime', 'docker')
    mgr = k2manager.Manager()
    monkeypatch.setattr(k2manager.conductor_api, 'API', Conductor)
    Conductor.updates = []
    with pytest.raises(gbackup.BackupError, match='process node runtime'):
        mgr.create_backup(CTX, {'id': 'b3', 'swift_url': 'http://s/v1/A'})
    assert Conductor.updates[-1][1]['state'] == 'FAILED'


def test_prepare_from_backup_restores_before_the_first_start(mgr):
    order = []
    mgr.registrar = lambda access, cuk: order.append('register')
    mgr.app.configure_node = lambda access: order.append('configure')
    mgr.app.start_node = lambda: order.append('start')
    mgr.app.bootstrap_alone = lambda: order.append('bootstrap')
    mgr.backups.run, calls = _program('Restore successfully.\n')
    info = {'id': 'b1', 'location': 'http://s/v1/A/c/b1.k2har.gz',
            'checksum': 'abc', 'swift_url': 'http://s/v1/A'}
    orig = mgr.backups._execute

    def execute(argv):
        order.append('restore')
        return orig(argv)
    mgr.backups._execute = execute
    access = {'k2hr3_url': 'https://10.0.0.1:18080',
              'resource_yrn': 'yrn:yahoo:::t:resource:r',
              'role_yrn': 'yrn:yahoo:::t:role:r', 'role_token': 'r0le'}
    mgr.do_prepare(CTX, None, None, 1024, None, None, None, info, None,
                   None, {'k2hr3': access}, None, None)
    assert order == ['register', 'configure', 'restore', 'start',
                     'bootstrap']
    [argv] = calls
    assert '--nobackup' in argv
    assert '--restore-from=http://s/v1/A/c/b1.k2har.gz' in argv
    assert '--restore-checksum=abc' in argv


def test_prepare_from_backup_that_fails_never_starts(mgr):
    order = []
    mgr.registrar = lambda access, cuk: None
    mgr.app.configure_node = lambda access: None
    mgr.app.start_node = lambda: order.append('start')
    mgr.backups.run, _ = _program('Exception: checksum mismatch\n', rc=1)
    access = {'k2hr3_url': 'https://10.0.0.1:18080',
              'resource_yrn': 'yrn:yahoo:::t:resource:r',
              'role_yrn': 'yrn:yahoo:::t:role:r', 'role_token': 'r0le'}
    info = {'id': 'b9', 'location': 'http://s/v1/A/c/b9.k2har.gz',
            'checksum': 'abc', 'swift_url': 'http://s/v1/A'}
    with pytest.raises(gbackup.BackupError,
                       match='restore from backup b9 failed: checksum '
                             'mismatch'):
        mgr.do_prepare(CTX, None, None, 1024, None, None, None, info, None,
                       None, {'k2hr3': access}, None, None)
    assert order == []
    # what the taskmanager asks for and shows as the instance fault
    assert mgr.prepare_failure(CTX) == ('restore from backup b9 failed: '
                                        'checksum mismatch')


def test_a_prepare_that_did_not_fail_has_no_failure(mgr):
    assert mgr.prepare_failure(CTX) is None


def test_restore_node_of_a_cluster_member(mgr, monkeypatch):
    """A restored cluster's member loads its backup once configured and
    before it starts; never while running, never unconfigured."""
    mgr.backups.run, calls = _program('Restore successfully.\n')
    info = {'id': 'b4', 'location': 'http://s/v1/A/c/b4.k2har.gz',
            'checksum': 'abc', 'swift_url': 'http://s/v1/A'}
    monkeypatch.setattr(mgr.app.node_config, 'exists', lambda: False)
    with pytest.raises(Exception, match='call configure_node first'):
        mgr.restore_node(CTX, info)
    monkeypatch.setattr(mgr.app.node_config, 'exists', lambda: True)
    monkeypatch.setattr(mgr.app.runtime, 'is_running', lambda: True)
    with pytest.raises(Exception, match='cannot restore a running node'):
        mgr.restore_node(CTX, info)
    assert calls == []
    monkeypatch.setattr(mgr.app.runtime, 'is_running', lambda: False)
    assert mgr.restore_node(CTX, info) == {'restored': True}
    [argv] = calls
    assert '--restore-from=http://s/v1/A/c/b4.k2har.gz' in argv
    assert '--os-token=user-t0ken' in argv
    mgr.backups.run, _ = _program('Exception: segment 0 etag mismatch\n',
                                  rc=1)
    with pytest.raises(gbackup.BackupError, match='etag mismatch'):
        mgr.restore_node(CTX, info)
