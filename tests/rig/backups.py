"""Trove backups in the rig: stock CLI calls, waits, and what the rig's
real Swift holds (doc/backup.md §2 names the objects)."""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import pathlib
import time
from typing import Any

from tests.rig import cli
from tests.rig import launcher
from tests.rig import procs


def wait_backup(info: dict[str, Any], backup_id: str,
                states: tuple[str, ...] = ('COMPLETED',),
                timeout: float = 300) -> dict[str, Any]:
    """``backup show`` until the status is one of ``states``;
    RuntimeError on another end state or when the time is up."""
    deadline = time.monotonic() + timeout
    while True:
        shown = cli.openstack(info, 'database', 'backup', 'show', backup_id)
        if shown['status'] in states:
            return shown
        if shown['status'] in ('COMPLETED', 'FAILED', 'DELETE_FAILED'):
            raise RuntimeError('backup %s ended %s, not %s: %s' % (
                backup_id, shown['status'], states, shown))
        if time.monotonic() > deadline:
            raise RuntimeError('backup %s still %s' % (backup_id,
                                                       shown['status']))
        time.sleep(2)


def swift(info: dict[str, Any]) -> Any:
    """swiftclient on the rig project's account, with the rig token."""
    import swiftclient
    return swiftclient.Connection(
        preauthurl=info['swift']['url_prefix'] + info['project_id'],
        preauthtoken=info['token'], retries=0)


def stored(info: dict[str, Any], backup_id: str,
           container: str = 'database_backups') -> list[str]:
    """Names of the objects (manifest and segments) of ``backup_id``."""
    import swiftclient
    try:
        _, objects = swift(info).get_container(container, full_listing=True)
    except swiftclient.ClientException as exc:
        if exc.http_status == 404:
            return []
        raise
    return sorted(o['name'] for o in objects
                  if o['name'].startswith(backup_id))


def corrupt_segment(info: dict[str, Any], backup_id: str,
                    container: str = 'database_backups') -> None:
    """Change one byte of the backup's first segment in Swift (same
    length): what bit rot or a replaced object looks like to a
    restore."""
    conn = swift(info)
    name = backup_id + '_00000000'
    _, data = conn.get_object(container, name)
    middle = len(data) // 2
    changed = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]
    conn.put_object(container, name, changed)


def wait_instance_error(info: dict[str, Any], instance_id: str,
                        timeout: float = 900) -> dict[str, Any]:
    """``instance show`` until ERROR with a fault other than Trove's
    generic one; RuntimeError if it becomes ACTIVE (the damage was not
    seen) or the time is up."""
    deadline = time.monotonic() + timeout
    while True:
        shown = cli.openstack(info, 'database', 'instance', 'show',
                              instance_id)
        if shown['status'] in ('ACTIVE', 'HEALTHY'):
            raise RuntimeError('instance %s restored from a damaged '
                               'backup is %s' % (instance_id,
                                                 shown['status']))
        fault = ' '.join((shown.get('fault') or '').split())
        if shown['status'] in ('ERROR', 'FAILED') and \
                'restore from backup' in fault:
            return shown
        if time.monotonic() > deadline:
            raise RuntimeError('instance %s: no restore fault in time: %s'
                               % (instance_id, shown))
        time.sleep(3)


@contextlib.contextmanager
def object_server_down(info: dict[str, Any]) -> Iterator[None]:
    """The rig Swift's object server stopped for the block: the proxy,
    accounts and containers still answer (Trove's API checks pass),
    object writes fail with 503."""
    pids = pathlib.Path(info['state_dir']) / 'pids'
    procs.stop_pidfile(pids / 'swift-object.pid')
    try:
        yield
    finally:
        server = launcher.swift_server(info)
        server.start_server('object')
        server.write_pidfiles(pids)
        procs.wait_until(lambda: procs.tcp_open(
            '127.0.0.1', info['swift']['ports']['object']), 30,
            'the Swift object server back')
