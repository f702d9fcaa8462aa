"""Whole-file writes that never leave a half file behind.

chmpx reloads its INI on every change and *exits* on a file it cannot
parse, so a reader must only ever see the old bytes or the new bytes:
temp file in the same directory, fsync, rename, fsync the directory.
"""

from __future__ import annotations

import os
import pathlib
import tempfile


def atomic_write(path: str | os.PathLike, data: bytes,
                 mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` atomically; the temp file is created
    with ``mode`` from the start (a secret is never briefly readable)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % path.name, suffix='.tmp',
                               dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
