"""trove-k2hdkc-backup against a real Swift: round trip and failures."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import subprocess

import pytest

from tests.functional.backup import node as nodemod

KEY = 'backup-aes-cbc-key'
SUCCESS = re.compile(r'.*Backup successfully, checksum: (?P<checksum>\S+), '
                     r'location: (?P<location>\S+)$')
SEGMENT = str(1 << 16)
# The segment check ends each segment; gzip may stop on the bad bytes first.
DAMAGED = r'segment %s is damaged|the compressed archive is damaged'


def _data(count: int) -> dict[str, str]:
    # hex digests: barely compressible, so the backups span segments
    return {'key-%05d' % i: hashlib.sha256(b'%d' % i).hexdigest()
            for i in range(count)}


def _backup(swift, node, backup_id, *extra):
    return nodemod.run(
        '--backup', '--backup-id=%s' % backup_id, '--storage-driver=swift',
        '--driver=k2hdkcbackup', '--os-token=%s' % swift.token,
        '--swift-url=%s' % swift.url,
        '--swift-extra-metadata=datastore:k2hdkc,datastore_version:1.0.16',
        '--swift-container=database_backups',
        '--k2hdkc-conf=%s' % node.ini, '--segment-size=%s' % SEGMENT, *extra)


def _restore(swift, node, location, checksum, *extra):
    return nodemod.run(
        '--nobackup', '--storage-driver=swift', '--driver=k2hdkcbackup',
        '--os-token=%s' % swift.token, '--swift-url=%s' % swift.url,
        '--restore-from=%s' % location, '--restore-checksum=%s' % checksum,
        '--k2hdkc-conf=%s' % node.ini, *extra)


def _no_secrets(res):
    for secret in (KEY, 'swift-test-token', 'not-the-token'):
        assert secret not in res.stdout + res.stderr


def _ok(res):
    assert res.returncode == 0, res.stdout + res.stderr
    _no_secrets(res)
    match = SUCCESS.match(nodemod.last_line(res))
    assert match, res.stdout
    return match.group('location'), match.group('checksum')


def _failed(res, reason):
    assert res.returncode != 0, res.stdout + res.stderr
    _no_secrets(res)
    last = nodemod.last_line(res)
    assert last.startswith('Exception: '), res.stdout + res.stderr
    assert re.search(reason, last), last
    return last


@pytest.fixture(scope='module')
def encrypted(swift, tmp_path_factory):
    """One encrypted multi-segment backup of 3,000 keys."""
    data = _data(3000)
    node = nodemod.Node(tmp_path_factory.mktemp('src')).create(data)
    location, checksum = _ok(_backup(swift, node, 'b-enc',
                                     '--backup-encryption-key=%s' % KEY))
    return data, location, checksum


def test_round_trip_many_keys_into_a_fresh_node(swift, encrypted, tmp_path):
    data, location, checksum = encrypted
    assert location == '%s/database_backups/b-enc.k2har.gz.enc' % swift.url
    conn = swift.connection()
    head = conn.head_object('database_backups', 'b-enc.k2har.gz.enc')
    assert head['x-static-large-object'] == 'True'
    assert head['x-object-meta-datastore'] == 'k2hdkc'
    assert head['x-object-meta-datastore-version'] == '1.0.16'
    _, raw = conn.get_object('database_backups', 'b-enc.k2har.gz.enc',
                             query_string='multipart-manifest=get')
    assert len(json.loads(raw)) > 1   # streamed as several segments
    target = nodemod.Node(tmp_path).create({'stale': 'gone after restore'})
    res = _restore(swift, target, location, checksum,
                   '--backup-encryption-key=%s' % KEY)
    assert res.returncode == 0, res.stdout + res.stderr
    assert target.read() == data
    assert target.files() == ['data', 'data/k2hdkc.k2h', 'k2hdkc.ini']


def test_trove_restore_path_reads_the_object(swift, encrypted):
    """Trove's restore pipe: manifest ETag == checksum, then
    ``openssl enc -d -aes-256-cbc -md sha512 -pbkdf2 -iter 10000 -salt
    -pass pass:<key> | gzip -d`` gives the k2hash archive."""
    data, _, checksum = encrypted
    headers, body = swift.connection().get_object(
        'database_backups', 'b-enc.k2har.gz.enc')
    assert headers['etag'].strip('"') == checksum
    plain = subprocess.run(
        ['openssl', 'enc', '-d', '-aes-256-cbc', '-md', 'sha512', '-pbkdf2',
         '-iter', '10000', '-salt', '-pass', 'pass:%s' % KEY],
        input=body, capture_output=True, check=True).stdout
    records = [json.loads(line) for line in
               gzip.decompress(plain).decode().splitlines()]
    assert {r['k']: r['v'] for r in records} == data


def test_unencrypted_round_trip_into_a_never_started_node(swift, tmp_path):
    data = _data(50)
    src = nodemod.Node(tmp_path / 'src').create(data)
    location, checksum = _ok(_backup(swift, src, 'b-plain'))
    assert location.endswith('/database_backups/b-plain.k2har.gz')
    dst = nodemod.Node(tmp_path / 'dst').create({})
    shutil.rmtree(dst.k2hfile.parent)   # no data dir yet
    res = _restore(swift, dst, location, checksum)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.strip().splitlines()[-1].endswith(
        'Restore successfully.')
    assert dst.read() == data


def _restore_fails(swift, tmp_path, location, checksum, reason, *extra):
    dst = nodemod.Node(tmp_path / 'dst').create({'keep': 'me'})
    before = dst.files()
    _failed(_restore(swift, dst, location, checksum, *extra), reason)
    assert dst.read() == {'keep': 'me'}
    assert dst.files() == before       # nothing half written


def test_wrong_key_fails_and_leaves_the_node(swift, encrypted, tmp_path):
    _, location, checksum = encrypted
    _restore_fails(swift, tmp_path, location, checksum,
                   'wrong key|damaged', '--backup-encryption-key=other')


def test_missing_key_fails(swift, encrypted, tmp_path):
    _, location, checksum = encrypted
    _restore_fails(swift, tmp_path, location, checksum,
                   'encrypted: pass --backup-encryption-key')


def test_wrong_checksum_fails(swift, encrypted, tmp_path):
    _, location, _ = encrypted
    _restore_fails(swift, tmp_path, location, '0' * 32,
                   'checksum mismatch', '--backup-encryption-key=%s' % KEY)


def _copy_backup(swift, tmp_path, name):
    """A fresh backup to damage (the shared one stays intact)."""
    src = nodemod.Node(tmp_path / 'src').create(_data(2000))
    return _ok(_backup(swift, src, name, '--backup-encryption-key=%s' % KEY))


def test_segment_replaced_in_swift_fails(swift, tmp_path):
    location, checksum = _copy_backup(swift, tmp_path, 'b-replaced')
    conn = swift.connection()
    size = int(conn.head_object('database_backups',
                                'b-replaced_00000001')['content-length'])
    conn.put_object('database_backups', 'b-replaced_00000001',
                    b'\0' * size)
    _restore_fails(swift, tmp_path, location, checksum,
                   DAMAGED % 'b-replaced_00000001',
                   '--backup-encryption-key=%s' % KEY)


def test_corrupted_on_disk_fails(swift, tmp_path):
    """A bit flipped in an object server's file (bit rot)."""
    before = set(swift.object_files())
    location, checksum = _copy_backup(swift, tmp_path, 'b-rot')
    new = [p for p in swift.object_files() if p not in before]
    victim = max(new, key=lambda p: p.stat().st_size)
    raw = bytearray(victim.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    victim.write_bytes(bytes(raw))
    _restore_fails(swift, tmp_path, location, checksum, 'is damaged',
                   '--backup-encryption-key=%s' % KEY)


def test_truncated_segment_fails(swift, tmp_path):
    location, checksum = _copy_backup(swift, tmp_path, 'b-short')
    conn = swift.connection()
    _, body = conn.get_object('database_backups', 'b-short_00000001')
    conn.put_object('database_backups', 'b-short_00000001', body[:-100])
    _restore_fails(swift, tmp_path, location, checksum,
                   DAMAGED % 'b-short_00000001',
                   '--backup-encryption-key=%s' % KEY)


def test_missing_segment_fails(swift, tmp_path):
    location, checksum = _copy_backup(swift, tmp_path, 'b-gone')
    swift.connection().delete_object('database_backups', 'b-gone_00000001')
    _restore_fails(swift, tmp_path, location, checksum, 'b-gone_00000001',
                   '--backup-encryption-key=%s' % KEY)


def test_incremental_is_refused(swift, tmp_path):
    node = nodemod.Node(tmp_path).create({'a': 'b'})
    _failed(_backup(swift, node, 'b-inc', '--incremental',
                    '--parent-location=x', '--parent-checksum=y'),
            'incremental backups are not supported')


def test_wrong_token_fails_and_leaves_nothing(swift, tmp_path):
    node = nodemod.Node(tmp_path).create(_data(10))
    res = nodemod.run(
        '--backup', '--backup-id=b-token', '--os-token=not-the-token',
        '--swift-url=%s' % swift.url, '--k2hdkc-conf=%s' % node.ini)
    _failed(res, '401')
    names = [o['name'] for o in swift.connection().get_container(
        'database_backups')[1]]
    assert not [n for n in names if n.startswith('b-token')]
    assert node.files() == ['data', 'data/k2hdkc.k2h', 'k2hdkc.ini']


def test_swift_down_fails(tmp_path):
    node = nodemod.Node(tmp_path).create(_data(10))
    res = nodemod.run(
        '--backup', '--backup-id=b-down', '--os-token=t',
        '--swift-url=http://127.0.0.1:9/v1/AUTH_test',
        '--k2hdkc-conf=%s' % node.ini)
    _failed(res, 'onnect')
    assert node.read() == _data(10)


def test_bad_command_line_fails_with_an_exception_line(tmp_path):
    _failed(nodemod.run('--backup', '--no-such-flag'), 'bad command line')
    res = nodemod.run('--backup', '--driver=mysql', '--os-token=s3cret')
    _failed(res, 'bad command line')
    assert 'mysql' in res.stderr and 's3cret' not in res.stdout
    node = nodemod.Node(tmp_path).create({})
    _failed(nodemod.run('--nobackup', '--k2hdkc-conf=%s' % node.ini),
            'missing --restore-from, --restore-checksum, --swift-url, '
            '--os-token')
