"""The guest's side of Trove backups: run the backup program, report.

Why: Trove's guest reports a backup to the conductor as BUILDING, then
COMPLETED with checksum, location and size, or FAILED; the data path is
the backup program (doc/backup.md §3), run here as a child process of the
agent (the process runtime) with the same flags Trove gives its backup
container.  A restore runs before the node first starts, on the INI the
node was configured with, so the restored file has the node's geometry.
"""

from __future__ import annotations

from collections.abc import Callable
import re
import subprocess
import sys
from typing import Any

from oslo_log import log as logging

from trove_k2hdkc.guest import errors

LOG = logging.getLogger(__name__)
PROGRAM = [sys.executable, '-m', 'trove_k2hdkc.backup.main']
SUCCESS_RE = re.compile(r'.*Backup successfully, checksum: (?P<checksum>\S+)'
                        r', location: (?P<location>\S+)$')
STORED_RE = re.compile(r'.*Stored (?P<size>\d+) bytes$')
EXCEPTION_RE = re.compile(r'^Exception: (?P<reason>.+)$')
BUILDING, COMPLETED, FAILED = 'BUILDING', 'COMPLETED', 'FAILED'
#: Trove's backups.description column (VARCHAR 512).
DESCRIPTION_MAX = 512
FAILED_MARK = ' | FAILED: '
_SECRET_FLAGS = ('--os-token=', '--backup-encryption-key=')


class BackupError(errors.GuestNodeError):
    """The backup program failed; the message is its reason."""


def redacted(argv: list[str]) -> str:
    return ' '.join(a.split('=', 1)[0] + '=***'
                    if a.startswith(_SECRET_FLAGS) else a for a in argv)


def failed_description(description: str | None, reason: str) -> str:
    """The backup's description with the failure's reason after it:
    Trove's backup view has no fault field, and ``backup show`` prints
    the description (the conductor stores any backup column it is
    sent)."""
    keep = description or ''
    text = (keep + FAILED_MARK if keep else 'FAILED: ') + reason
    return text[:DESCRIPTION_MAX]


def _reason(output: str) -> str:
    for line in reversed(output.strip().splitlines()):
        match = EXCEPTION_RE.match(line.strip())
        if match:
            return match.group('reason')
    tail = output.strip().splitlines()[-1:] or ['no output']
    return 'the backup program failed: %s' % tail[0]


class NodeBackups:
    """Backup and restore of this node through the backup program."""

    def __init__(self, ini_path: str, *, driver: str, container: str,
                 encryption_key: str | None = None, insecure: bool = False,
                 program: list[str] | None = None,
                 unsupported: str | None = None,
                 run: Callable[..., subprocess.CompletedProcess] = (
                     subprocess.run)) -> None:
        self.ini_path = ini_path
        self.driver = driver
        self.container = container
        self.encryption_key = encryption_key
        self.insecure = insecure
        self.program = list(program or PROGRAM)
        self.run = run
        #: Why this node cannot be backed up or restored, if it cannot.
        self.unsupported = unsupported

    def _common(self, token: str, swift_url: str) -> list[str]:
        argv = self.program + ['--storage-driver=swift',
                               '--driver=%s' % self.driver,
                               '--os-token=%s' % token,
                               '--swift-url=%s' % swift_url,
                               '--k2hdkc-conf=%s' % self.ini_path]
        if self.insecure:
            argv.append('--swift-api-insecure')
        if self.encryption_key:
            argv.append('--backup-encryption-key=%s' % self.encryption_key)
        return argv

    def _execute(self, argv: list[str]) -> str:
        LOG.info('Running %s', redacted(argv))
        res = self.run(argv, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, check=False)
        if res.returncode != 0:
            raise BackupError(_reason(res.stdout or ''))
        return res.stdout or ''

    def backup(self, backup_info: dict[str, Any],
               token: str) -> dict[str, Any]:
        """Run a backup; the fields of a COMPLETED report."""
        if self.unsupported:
            raise BackupError(self.unsupported)
        if backup_info.get('parent'):
            raise BackupError('incremental backups are not supported for '
                              'k2hdkc; create a full backup')
        if not backup_info.get('swift_url'):
            raise BackupError('missing swift_url in the backup request')
        argv = self._common(token, backup_info['swift_url']) + [
            '--backup', '--backup-id=%s' % backup_info['id'],
            '--swift-container=%s' % (backup_info.get('swift_container')
                                      or self.container),
            '--swift-extra-metadata=datastore:%s,datastore_version:%s' % (
                backup_info.get('datastore', 'k2hdkc'),
                backup_info.get('datastore_version', ''))]
        output = self._execute(argv)
        lines = output.strip().splitlines()
        match = SUCCESS_RE.match(lines[-1]) if lines else None
        if not match:
            raise BackupError('cannot parse the backup program output: %s'
                              % (lines[-1] if lines else 'none'))
        size = 0
        for line in lines:
            stored = STORED_RE.match(line)
            if stored:
                size = int(stored.group('size'))
        return {'checksum': match.group('checksum'),
                'location': match.group('location'),
                'size': size / float(1024 ** 3), 'success': True,
                'state': COMPLETED}

    def create(self, backup_info: dict[str, Any], token: str,
               report: Callable[..., None]) -> dict[str, Any]:
        """BUILDING, the backup, then COMPLETED or FAILED (always
        reported); raises ``BackupError`` on failure."""
        state: dict[str, Any] = {'backup_id': backup_info['id'],
                                 'state': BUILDING, 'backup_type': 'full',
                                 'size': 0.0}
        report(**state)
        try:
            state.update(self.backup(backup_info, token))
        except Exception as exc:
            state.update(success=False, state=FAILED,
                         description=failed_description(
                             backup_info.get('description'), str(exc)))
            LOG.error('Backup %s failed: %s', backup_info['id'], exc)
            raise BackupError('backup %s failed: %s'
                              % (backup_info['id'], exc)) from exc
        finally:
            report(**state)
        return state

    def restore(self, backup_info: dict[str, Any], token: str) -> None:
        """Restore the node's file (the node must not be running)."""
        if self.unsupported:
            raise BackupError(self.unsupported)
        if backup_info.get('location', '').endswith('.enc') and \
                not self.encryption_key:
            raise BackupError('the backup is encrypted and the guest has '
                              'no backup_aes_cbc_key to decrypt it')
        if not backup_info.get('swift_url'):
            raise BackupError('missing swift_url in the backup to restore')
        argv = self._common(token, backup_info['swift_url']) + [
            '--nobackup', '--restore-from=%s' % backup_info['location'],
            '--restore-checksum=%s' % backup_info.get('checksum', '')]
        try:
            self._execute(argv)
        except BackupError as exc:
            raise BackupError('restore from backup %s failed: %s'
                              % (backup_info.get('id'), exc)) from exc
        LOG.info('Restored the node from backup %s.', backup_info.get('id'))
