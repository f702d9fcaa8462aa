"""``trove-k2hdkc-backup``: the k2hdkc backup container's entry program.

Why: Trove 26's guest runs ``python3 main.py --backup ...`` (or
``--nobackup --restore-from ...``) in the datastore's backup image and
reads only the last output line: ``Backup successfully, checksum: X,
location: Y`` for a backup, the exit status for a restore, and the last
``Exception: ...`` line as the reason (doc/backup.md §3).  Trove's own
main.py exits 0 after errors; this one exits 1 on every failure.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Iterator
import logging
import os
import sys
import tempfile
import zlib

from oslo_config import cfg

from trove_k2hdkc.backup import archive
from trove_k2hdkc.backup import crypto
from trove_k2hdkc.backup import storage
from trove_k2hdkc.exceptions import K2hdkcError

LOG = logging.getLogger('trove_k2hdkc.backup')
DRIVER = 'k2hdkcbackup'
GZIP_WBITS = 31  # zlib's gzip container, what ``gzip -d`` reads

CLI_OPTS = [
    cfg.StrOpt('backup-id', help='Trove backup id; names the object.'),
    cfg.StrOpt('storage-driver', default='swift', choices=['swift'],
               help='Where backups are stored.'),
    cfg.StrOpt('driver', default=DRIVER, choices=[DRIVER],
               help='Backup strategy ([k2hdkc] backup_strategy).'),
    cfg.BoolOpt('backup', default=True,
                help='Back up (--backup) or restore (--nobackup).'),
    cfg.StrOpt('swift-url', help='Swift account URL (pre-authenticated).'),
    cfg.BoolOpt('swift-api-insecure', default=False,
                help='Do not verify Swift TLS certificates.'),
    cfg.StrOpt('backup-encryption-key', secret=True,
               help='Trove backup_aes_cbc_key: encrypt (backup) or '
                    'decrypt (restore) with openssl-compatible '
                    'AES-256-CBC. Unset: not encrypted.'),
    cfg.StrOpt('os-token', secret=True, help='The user\'s Keystone token.'),
    cfg.StrOpt('swift-container', default='database_backups',
               help='Swift container for backups.'),
    cfg.DictOpt('swift-extra-metadata', default={},
                help='key:value pairs stored as X-Object-Meta-*.'),
    cfg.StrOpt('restore-from', help='Backup location to restore.'),
    cfg.StrOpt('restore-checksum', help='Checksum the backup must have.'),
    cfg.BoolOpt('incremental', default=False,
                help='Refused: k2hdkc backups are full backups.'),
    cfg.StrOpt('parent-location', help='Accepted for Trove; unused.'),
    cfg.StrOpt('parent-checksum', help='Accepted for Trove; unused.'),
    cfg.StrOpt('db-host', help='Accepted for Trove; unused.'),
    cfg.StrOpt('db-user', help='Accepted for Trove; unused.'),
    cfg.StrOpt('db-password', secret=True,
               help='Accepted for Trove; unused.'),
    cfg.StrOpt('db-datadir', help='Accepted for Trove; unused.'),
    cfg.StrOpt('k2hdkc-conf', default='/etc/antpickax/k2hdkc.ini',
               help='The node\'s INI: its [K2HDKC] K2HFILE and geometry.'),
    cfg.IntOpt('segment-size', default=1 << 30, min=1 << 16,
               help='Bytes per Swift segment (streamed, never buffered).'),
]


class BackupFailed(K2hdkcError):
    """A reason to print as the last ``Exception:`` line."""


def parse(argv: list[str]) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    conf.register_cli_opts(CLI_OPTS)
    try:
        conf(argv, project='trove-k2hdkc-backup', default_config_files=[],
             default_config_dirs=[])
    except SystemExit as exc:   # argparse: usage is on stderr already
        if exc.code:
            # argv may hold the token: never echo it
            raise BackupFailed('bad command line (the reason is in the '
                               'usage message above)') from None
        raise
    return conf


def gzip_stream(chunks: Iterable[bytes]) -> Iterator[bytes]:
    comp = zlib.compressobj(6, zlib.DEFLATED, GZIP_WBITS)
    for chunk in chunks:
        out = comp.compress(chunk)
        if out:
            yield out
    yield comp.flush()


def gunzip_stream(chunks: Iterable[bytes]) -> Iterator[bytes]:
    dec = zlib.decompressobj(GZIP_WBITS)
    try:
        for chunk in chunks:
            if not chunk:
                continue
            if dec.eof:
                raise BackupFailed('data after the end of the compressed '
                                   'archive: the backup is damaged')
            out = dec.decompress(chunk)
            if out:
                yield out
            if dec.unused_data:
                raise BackupFailed('data after the end of the compressed '
                                   'archive: the backup is damaged')
        if not dec.eof:
            raise BackupFailed('the compressed archive ends early: the '
                               'backup is truncated')
    except zlib.error as exc:
        raise BackupFailed('the compressed archive is damaged (%s)'
                           % exc) from exc


def _require(conf: cfg.ConfigOpts, *names: str) -> None:
    missing = ['--' + n for n in names if not conf[n.replace('-', '_')]]
    if missing:
        raise BackupFailed('missing %s' % ', '.join(missing))


def backup(conf: cfg.ConfigOpts) -> tuple[str, str]:
    _require(conf, 'backup-id', 'swift-url', 'os-token')
    if conf.incremental:
        raise BackupFailed('incremental backups are not supported for '
                           'k2hdkc; create a full backup')
    node = archive.NodeFile.from_ini(conf.k2hdkc_conf)
    key = conf.backup_encryption_key
    name = '%s.k2har.gz%s' % (conf.backup_id, '.enc' if key else '')
    stream = gzip_stream(archive.put(node,
                                     os.path.dirname(node.path)))
    if key:
        stream = crypto.encrypt(stream, key)
    headers = {'X-Object-Meta-%s' % k.replace('_', '-'): v
               for k, v in conf.swift_extra_metadata.items()}
    headers['X-Object-Meta-K2hdkc-Format'] = 'k2harchive+gzip%s' % (
        '+aes-256-cbc' if key else '')
    conn = storage.connect(conf.swift_url, conf.os_token,
                           conf.swift_api_insecure)
    LOG.info('Backing up %s to container %s as %s', node.path,
             conf.swift_container, name)
    checksum, size = storage.save(conn, conf.swift_container, name, stream,
                                  conf.segment_size, headers)
    location = '%s/%s/%s' % (conf.swift_url.rstrip('/'),
                             conf.swift_container, name)
    LOG.info('Stored %d bytes', size)
    return checksum, location


def restore(conf: cfg.ConfigOpts) -> None:
    _require(conf, 'restore-from', 'restore-checksum', 'swift-url',
             'os-token')
    node = archive.NodeFile.from_ini(conf.k2hdkc_conf)
    key = conf.backup_encryption_key
    if conf.restore_from.endswith('.enc') and not key:
        raise BackupFailed('the backup is encrypted: pass '
                           '--backup-encryption-key')
    conn = storage.connect(conf.swift_url, conf.os_token,
                           conf.swift_api_insecure)
    stream = storage.load(conn, conf.restore_from, conf.restore_checksum)
    encrypted = conf.restore_from.endswith('.enc')
    if encrypted:
        stream = crypto.decrypt(stream, key)
    stream = gunzip_stream(stream)
    workdir = os.path.dirname(node.path)
    os.makedirs(workdir, mode=0o750, exist_ok=True)  # a never-started node
    with tempfile.NamedTemporaryFile(prefix='.k2hdkc-restore-',
                                     suffix='.k2har', dir=workdir) as arfile:
        try:
            for chunk in stream:
                arfile.write(chunk)
        except BackupFailed as exc:
            if encrypted and not arfile.tell():
                # nothing decrypted to gzip: the key is the likely cause
                raise BackupFailed('cannot decrypt the backup: wrong key, '
                                   'or the data is damaged (%s)'
                                   % exc) from exc
            raise
        arfile.flush()
        LOG.info('Backup verified (%d archive bytes); loading it into a '
                 'fresh file', arfile.tell())
        fresh = archive.load(node, arfile.name)
    try:
        os.replace(fresh, node.path)
    except OSError:
        archive.discard(fresh)
        raise
    LOG.info('Restored %s from %s', node.path, conf.restore_from)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(stream=sys.stdout, level=logging.INFO,
                        format='%(asctime)s %(levelname)s %(message)s')
    try:
        conf = parse(sys.argv[1:] if argv is None else argv)
        if conf.backup:
            checksum, location = backup(conf)
            LOG.info('Backup successfully, checksum: %s, location: %s',
                     checksum, location)
        else:
            restore(conf)
            LOG.info('Restore successfully.')
        return 0
    except (BackupFailed, archive.ArchiveError, crypto.DecryptError,
            storage.StorageError, OSError, cfg.Error) as exc:
        reason = str(exc)
    except Exception as exc:  # swiftclient, cryptography, ...
        reason = '%s: %s' % (type(exc).__name__, exc)
    sys.stdout.flush()
    print('Exception: %s' % ' '.join(reason.split()), flush=True)
    return 1


if __name__ == '__main__':
    sys.exit(main())
