"""Drive ``k2hlinetool`` to write and load a node's k2hash archive.

Why: the archive is the only way to copy a live file-backed node (doc/
backup.md §1).  The real tool writes ``archive put`` with lseek+pwrite and
reads ``archive load`` with pread, so neither works on a pipe: the put goes
to a regular file that is read while it grows and whose consumed part is
punched out at once (the archive never sits whole on disk), and the load
reads a verified local file.  The tool exits 0 even when a command fails;
its ``[ERR]`` lines are the only failure signal.
"""

from __future__ import annotations

from collections.abc import Iterator
import ctypes
import ctypes.util
import dataclasses
import functools
import os
import subprocess
import tempfile
import time

from trove_k2hdkc.chmpx import ini
from trove_k2hdkc.exceptions import K2hdkcError

TOOL = 'k2hlinetool'
#: How long the reader waits for the tool to write more.
POLL = 0.02
CHUNK = 1 << 20
PAGE = 4096
_FALLOC_FL_KEEP_SIZE = 0x01
_FALLOC_FL_PUNCH_HOLE = 0x02


class ArchiveError(K2hdkcError):
    """k2hlinetool could not write or load the archive."""


@dataclasses.dataclass(frozen=True)
class NodeFile:
    """The node's K2HFILE and the geometry a fresh file must have."""

    path: str
    fullmap: bool
    mask: str
    cmask: str
    elementcnt: str
    pagesize: str

    @classmethod
    def from_ini(cls, ini_path: str) -> NodeFile:
        with open(ini_path, encoding='utf-8') as fobj:
            section = ini.parse_ini(fobj.read()).k2hdkc
        path = section.get('K2HFILE')
        if not path or not os.path.isabs(path):
            raise ArchiveError('%s has no absolute [K2HDKC] K2HFILE: only '
                               'file-backed nodes can be backed up'
                               % ini_path)
        if section.get('K2HTYPE', 'file').lower() not in ('file', 'fullmap'):
            raise ArchiveError('%s: K2HTYPE=%s keeps no file to back up'
                               % (ini_path, section.get('K2HTYPE')))
        return cls(path=path,
                   fullmap=section.get('K2HFULLMAP', 'on').lower() in (
                       'on', 'yes', 'true'),
                   mask=section.get('K2HMASKBIT', '8'),
                   cmask=section.get('K2HCMASKBIT', '4'),
                   elementcnt=section.get('K2HMAXELE', '32'),
                   pagesize=section.get('K2HPAGESIZE', '128'))

    def create_args(self) -> list[str]:
        """k2hlinetool options that build a fresh file of this geometry."""
        args = ['-fullmap'] if self.fullmap else []
        return args + ['-mask', self.mask, '-cmask', self.cmask,
                       '-elementcnt', self.elementcnt,
                       '-pagesize', self.pagesize]


def _errors(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines()
            if line.lstrip().startswith('[ERR]')]


@functools.cache
def _fallocate():
    libc = ctypes.CDLL(ctypes.util.find_library('c'), use_errno=True)
    libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int,
                               ctypes.c_longlong, ctypes.c_longlong]
    return libc.fallocate


def _punch(fd: int, offset: int, length: int) -> bool:
    """Free ``length`` bytes at ``offset`` (the file keeps its size)."""
    return _fallocate()(fd, _FALLOC_FL_PUNCH_HOLE | _FALLOC_FL_KEEP_SIZE,
                        offset, length) == 0


def put(node: NodeFile, workdir: str) -> Iterator[bytes]:
    """Yield the node's archive while ``archive put`` writes it.

    ``k2hlinetool -f <K2HFILE> -ro`` attaches read-only next to the running
    k2hdkc.  Raises ``ArchiveError`` (after the data) if the tool failed.
    """
    tmpdir = tempfile.mkdtemp(prefix='.k2hdkc-backup-', dir=workdir)
    archive = os.path.join(tmpdir, 'node.k2har')
    cmds = os.path.join(tmpdir, 'put.cmd')
    with open(cmds, 'w', encoding='utf-8') as fobj:
        fobj.write('archive put %s\nquit\n' % archive)
    fd = os.open(archive, os.O_RDWR | os.O_CREAT, 0o600)  # RDWR: fallocate
    out = tempfile.TemporaryFile(dir=tmpdir)
    proc = None
    try:
        proc = subprocess.Popen(
            [TOOL, '-f', node.path, '-ro', '-run', cmds],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        offset, freed, punch = 0, 0, True
        while True:
            done = proc.poll() is not None
            chunk = os.pread(fd, CHUNK, offset)
            if chunk:
                offset += len(chunk)
                # whole pages only: a partly freed page stays allocated
                upto = offset - offset % PAGE
                if punch and upto > freed:
                    punch = _punch(fd, freed, upto - freed)
                    freed = upto
                yield chunk
            elif done:
                break
            else:
                time.sleep(POLL)
        out.seek(0)
        text = out.read().decode('utf-8', 'replace')
        errs = _errors(text)
        if proc.returncode != 0 or errs:
            raise ArchiveError('k2hlinetool archive put failed (exit %s): %s'
                               % (proc.returncode,
                                  '; '.join(errs) or text[-300:].strip()))
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(fd)
        out.close()
        for name in (archive, cmds):
            discard(name)
        os.rmdir(tmpdir)


def load(node: NodeFile, archive: str) -> str:
    """Load ``archive`` into a fresh file beside K2HFILE; its path.

    The caller renames it over K2HFILE once everything is verified; on any
    failure the fresh file is removed and K2HFILE is untouched.
    """
    fresh = '%s.restore-%d' % (node.path, os.getpid())
    cmds = '%s.cmd' % archive
    discard(fresh)
    with open(cmds, 'w', encoding='utf-8') as fobj:
        fobj.write('archive load %s\nquit\n' % archive)
    try:
        res = subprocess.run(
            [TOOL, '-f', fresh] + node.create_args() + ['-run', cmds],
            stdin=subprocess.DEVNULL, capture_output=True, text=True,
            check=False)
        errs = _errors(res.stdout + res.stderr)
        if res.returncode != 0 or errs or not os.path.isfile(fresh):
            raise ArchiveError('k2hlinetool archive load failed (exit %s): %s'
                               % (res.returncode, '; '.join(errs)
                                  or (res.stdout + res.stderr)[-300:].strip()))
    except BaseException:
        discard(fresh)
        raise
    finally:
        discard(cmds)
    return fresh


def discard(path: str) -> None:
    """Remove ``path`` if it exists."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
