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
