"""The guest's NodeBackups running the real program against a real Swift:
what it reports to the conductor and what it raises."""

from __future__ import annotations

import pytest

from tests.functional.backup import node as nodemod
from tests.functional.backup.node import standin_path  # noqa: F401
from trove_k2hdkc.guest import backup as gbackup

KEY = 'guest-aes-key'

# the backup code run here finds the stand-in k2hlinetool
pytestmark = pytest.mark.usefixtures('standin_path')


def _backups(node, key=KEY):
    return gbackup.NodeBackups(str(node.ini), driver='k2hdkcbackup',
                               container='database_backups',
                               encryption_key=key)


def _info(swift, backup_id):
    return {'id': backup_id, 'swift_url': swift.url, 'datastore': 'k2hdkc',
            'datastore_version': '1.0.16'}


def test_backup_reported_then_restored(swift, tmp_path):
    data = {'k%04d' % i: 'v%04d' % i for i in range(500)}
    src = nodemod.Node(tmp_path / 'src').create(data)
    reports = []
    state = _backups(src).create(_info(swift, 'g-1'), swift.token,
                                 lambda **f: reports.append(dict(f)))
    assert [r['state'] for r in reports] == ['BUILDING', 'COMPLETED']
    done = reports[-1]
    assert done == state
    assert done['location'] == (
        '%s/database_backups/g-1.k2har.gz.enc' % swift.url)
    assert done['backup_id'] == 'g-1' and done['success'] is True
    assert 0 < done['size'] < 1
    head = swift.connection().head_object('database_backups',
                                          'g-1.k2har.gz.enc')
    assert head['etag'].strip('"') == done['checksum']
    dst = nodemod.Node(tmp_path / 'dst').create({})
    _backups(dst).restore(dict(_info(swift, 'g-1'),
                               location=done['location'],
                               checksum=done['checksum']), swift.token)
    assert dst.read() == data


def test_swift_down_reports_failed_with_the_reason(tmp_path):
    src = nodemod.Node(tmp_path).create({'a': 'b'})
    reports = []
    info = {'id': 'g-down', 'swift_url': 'http://127.0.0.1:9/v1/AUTH_x'}
    with pytest.raises(gbackup.BackupError, match='backup g-down failed: '
                       '.*onnect'):
        _backups(src).create(info, 't0ken',
                             lambda **f: reports.append(dict(f)))
    assert [r['state'] for r in reports] == ['BUILDING', 'FAILED']
    assert reports[-1]['success'] is False
    assert src.read() == {'a': 'b'}


def test_restore_with_wrong_key_raises_and_keeps_the_file(
        swift, tmp_path):
    src = nodemod.Node(tmp_path / 'src').create({'a': 'b'})
    done = _backups(src).create(_info(swift, 'g-key'), swift.token,
                                lambda **f: None)
    dst = nodemod.Node(tmp_path / 'dst').create({'keep': 'me'})
    with pytest.raises(gbackup.BackupError,
                       match='restore from backup g-key failed: .*wrong '
                             'key'):
        _backups(dst, key='other').restore(
            dict(_info(swift, 'g-key'), location=done['location'],
                 checksum=done['checksum']), swift.token)
    assert dst.read() == {'keep': 'me'}


def test_encrypted_backup_without_a_key_is_refused(tmp_path):
    node = nodemod.Node(tmp_path).create({})
    with pytest.raises(gbackup.BackupError, match='backup_aes_cbc_key'):
        _backups(node, key=None).restore(
            {'id': 'x', 'location': 'http://s/v1/A/c/x.k2har.gz.enc',
             'checksum': 'c', 'swift_url': 'http://s/v1/A'}, 't')


def test_incremental_is_reported_failed(tmp_path):
    node = nodemod.Node(tmp_path).create({})
    reports = []
    with pytest.raises(gbackup.BackupError, match='incremental'):
        _backups(node).create({'id': 'i', 'swift_url': 'http://s/v1/A',
                               'parent': {'location': 'l',
                                          'checksum': 'c'}}, 't',
                              lambda **f: reports.append(dict(f)))
    assert [r['state'] for r in reports] == ['BUILDING', 'FAILED']


def test_secrets_are_redacted_in_the_logged_command():
    argv = ['p', '--os-token=s3cret', '--backup-encryption-key=k3y', '--x=1']
    assert gbackup.redacted(argv) == (
        'p --os-token=*** --backup-encryption-key=*** --x=1')
