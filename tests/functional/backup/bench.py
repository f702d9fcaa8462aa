"""Backup benchmark: ``python -m tests.functional.backup.bench --sizes
64,1024`` (MiB of node data).

Per size it prints the throughput of a backup and of a restore through
``trove-k2hdkc-backup`` into a real Swift on loopback (tests/swiftlocal,
with encryption, as Trove runs it), next to the raw copy of the same
data: ``k2hlinetool -ro ... archive put <file>`` then ``gzip`` of that
file (a pipe cannot be the archive target, doc/backup.md §1), and the
program's peak RSS (VmHWM of its own process, sampled until it exits;
the k2hlinetool it drives is a process of its own). Figures only, no
assertions. It runs the real ``k2hlinetool`` when it is on PATH, else the
data-plane stand-in (which holds the whole node in memory itself: mind
RAM at 1 GiB).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

from tests import swiftlocal
from tests.functional.backup import node as nodemod

KEY = 'bench-aes-key'
VALUE_BYTES = 1024


def make_node(root: pathlib.Path, mib: int, real: bool = False,
              env: dict[str, str] | None = None) -> nodemod.Node:
    """A node holding ``mib`` MiB of values (hex digests: they compress
    about 2:1, like typical text values). ``real``: a real k2hash file,
    written by the real ``k2hlinetool`` with the INI's geometry (the
    stand-in's file format is its own)."""
    count = mib * 1024 * 1024 // VALUE_BYTES
    digest = hashlib.sha256
    values = (('key-%09d' % i,
               (digest(b'%d' % i).hexdigest() * 16)[:VALUE_BYTES])
              for i in range(count))
    if not real:
        return nodemod.Node(root).create(dict(values))
    node = nodemod.Node(root).create({})
    node.k2hfile.unlink()
    cmds = root / 'load.cmds'
    with open(cmds, 'w') as out:
        for key, value in values:
            out.write('set %s %s\n' % (key, value))
        out.write('quit\n')
    subprocess.run(['k2hlinetool', '-f', str(node.k2hfile), '-fullmap',
                    '-mask', '8', '-cmask', '4', '-elementcnt', '16',
                    '-pagesize', '128', '-run', str(cmds)], env=env,
                   check=True, stdout=subprocess.DEVNULL)
    cmds.unlink()
    return node


def measured(argv: list[str], env: dict[str, str]
             ) -> tuple[float, int, subprocess.CompletedProcess]:
    """(seconds, peak RSS in KiB of the process itself, result)."""
    out = tempfile.TemporaryFile()
    start = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=out,
                            stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        try:
            status = pathlib.Path('/proc/%d/status' % proc.pid).read_text()
        except OSError:
            break
        for line in status.splitlines():
            if line.startswith('VmHWM:'):
                peak = max(peak, int(line.split()[1]))
        time.sleep(0.02)
    proc.wait()
    seconds = time.monotonic() - start
    out.seek(0)
    text = out.read().decode(errors='replace')
    out.close()
    return seconds, peak, subprocess.CompletedProcess(argv, proc.returncode,
                                                      stdout=text)


def raw_copy(node: nodemod.Node, workdir: pathlib.Path,
             env: dict[str, str]) -> tuple[float, int]:
    """``archive put`` to a file, then ``gzip`` of it: (seconds, bytes
    of the archive)."""
    archive = workdir / 'raw.k2har'
    cmds = workdir / 'raw.cmds'
    cmds.write_text('archive put %s\nquit\n' % archive)
    start = time.monotonic()
    subprocess.run(['k2hlinetool', '-f', str(node.k2hfile), '-ro', '-run',
                    str(cmds)], env=env, check=True, capture_output=True)
    with open(os.devnull, 'wb') as sink:
        subprocess.run(['gzip', '-c', str(archive)], stdout=sink, check=True)
    seconds = time.monotonic() - start
    size = archive.stat().st_size
    archive.unlink()
    return seconds, size


def program(*args: str) -> list[str]:
    return [sys.executable, '-m', 'trove_k2hdkc.backup.main', *args]


def bench(size: int, swift: swiftlocal.LocalSwift, workdir: pathlib.Path,
          env: dict[str, str], real: bool = False) -> dict[str, float]:
    src = make_node(workdir / ('src-%d' % size), size, real, env)
    raw_s, archive_bytes = raw_copy(src, workdir, env)
    common = ['--storage-driver=swift', '--driver=k2hdkcbackup',
              '--os-token=%s' % swift.token, '--swift-url=%s' % swift.url,
              '--backup-encryption-key=%s' % KEY]
    back_s, back_rss, res = measured(program(
        '--backup', '--backup-id=bench-%d' % size,
        '--swift-container=database_backups',
        '--swift-extra-metadata=datastore:k2hdkc,datastore_version:bench',
        '--k2hdkc-conf=%s' % src.ini, *common), env)
    last = res.stdout.strip().splitlines()[-1]
    if res.returncode != 0 or 'Backup successfully' not in last:
        raise RuntimeError('backup failed: %s' % res.stdout[-2000:])
    checksum = last.split('checksum: ')[1].split(',')[0]
    location = last.split('location: ')[1]
    dst = nodemod.Node(workdir / ('dst-%d' % size)).create({})
    if real:
        dst.k2hfile.unlink()     # a new node: no file before its restore
    rest_s, rest_rss, res = measured(program(
        '--nobackup', '--restore-from=%s' % location,
        '--restore-checksum=%s' % checksum, '--k2hdkc-conf=%s' % dst.ini,
        *common), env)
    if res.returncode != 0:
        raise RuntimeError('restore failed: %s' % res.stdout[-2000:])
    mib = archive_bytes / float(1 << 20)
    shutil.rmtree(workdir / ('src-%d' % size), ignore_errors=True)
    shutil.rmtree(workdir / ('dst-%d' % size), ignore_errors=True)
    return {'size': size, 'archive_mib': mib, 'raw': mib / raw_s,
            'backup': mib / back_s, 'restore': mib / rest_s,
            'backup_rss': back_rss / 1024.0, 'restore_rss': rest_rss / 1024.0}


def report(rows: list[dict[str, float]], tool: str) -> str:
    out = ['k2hlinetool: %s' % tool,
           '%9s %11s %16s %14s %9s %15s %16s' % (
               'data MiB', 'archive MiB', 'raw put+gzip MiB/s',
               'backup MiB/s', 'vs raw', 'restore MiB/s',
               'peak RSS b/r MiB')]
    for r in rows:
        out.append('%9d %11.1f %16.1f %14.1f %8.2fx %15.1f %8.0f/%.0f' % (
            r['size'], r['archive_mib'], r['raw'], r['backup'],
            r['backup'] / r['raw'], r['restore'], r['backup_rss'],
            r['restore_rss']))
    return '\n'.join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', default='64,1024',
                        help='node data sizes in MiB, comma separated')
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(',') if s]
    env = nodemod.env()
    # The real tool if it is on the caller's PATH, else the stand-in.
    real = shutil.which('k2hlinetool', path=os.environ.get('PATH'))
    if real:
        env['PATH'] = os.environ['PATH']
    tool = real or str(nodemod.STANDIN_BIN / 'k2hlinetool') + ' (stand-in)'
    with tempfile.TemporaryDirectory(prefix='k2hdkc-bench-',
                                     dir='/var/tmp') as tmp:
        workdir = pathlib.Path(tmp)
        swift = swiftlocal.LocalSwift(workdir / 'swift').start()
        try:
            rows = [bench(size, swift, workdir, env, bool(real))
                    for size in sizes]
        finally:
            swift.stop()
    print(report(rows, tool), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
