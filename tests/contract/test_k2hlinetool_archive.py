"""The k2hlinetool stand-in against the real tool's archive captures.

The captures (tests/data/reference/k2hdkc/k2hlinetool_archive_*.out) are
the real ``k2hlinetool`` 1.0.99 run with the exact command lines the
backup program uses; the stand-in, run with the same command lines (paths
moved into a temporary directory), must print the same lines and exit
code.  Rules the captures cannot show (a pipe as ``archive put`` target,
an archive cut short) follow the real loader's code: doc/backup.md §1.
"""

from __future__ import annotations

import os
import pathlib
import shlex
import subprocess

import pytest

from tests.functional.backup import node as nodemod
from tests.standins.dataplane import store as storemod

REAL_FILE = '/var/lib/antpickax/k2hdkc/data/k2hdkc.k2h'
REAL_AR = '/var/lib/antpickax/k2hdkc/backup/k2hdkc-node1.ar'
MISSING_AR = '/var/lib/antpickax/k2hdkc/backup/no-such.ar'


def capture(reference_dir, name):
    """(argv, output, exit code) of one capture."""
    text = (reference_dir / 'k2hdkc' / name).read_text()
    lines = text.rstrip('\n').split('\n')
    argv = shlex.split(lines[0][2:].split('#')[0])
    assert lines[-1].startswith('[exit code ')
    return argv, '\n'.join(lines[1:-1]) + '\n', int(lines[-1][11:-1])


def commands(output):
    return [line[2:] for line in output.splitlines() if line.startswith('> ')]


def run(argv, paths):
    """Run the stand-in with ``argv``, the real paths mapped to local ones;
    the output with the paths mapped back."""
    def local(word):
        return paths.get(word, word)
    args = [local(a) for a in argv[1:]]
    res = subprocess.run(['k2hlinetool'] + args, env=nodemod.env(),
                         capture_output=True, text=True, timeout=30,
                         check=False)
    out = res.stdout
    for real, mine in paths.items():
        out = out.replace(mine, real)
    return out, res.returncode


def _cmdfile(tmp_path, name, cmds, paths=None):
    """A ``-run`` file of ``cmds``, real paths in them mapped by
    ``paths``."""
    text = '\n'.join(cmds) + '\n'
    for real, mine in (paths or {}).items():
        text = text.replace(real, mine)
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _archive(tmp_path, data):
    src = tmp_path / 'src.k2h'
    db = storemod.Store(str(src), init=True)
    db.elements = {k: {'v': v, 'm': 1} for k, v in data.items()}
    db.save()
    archive = tmp_path / 'node1.ar'
    cmds = _cmdfile(tmp_path, 'put.cmd', ['archive put %s' % archive,
                                           'quit'])
    res = subprocess.run(['k2hlinetool', '-f', str(src), '-ro', '-run',
                          cmds], env=nodemod.env(), capture_output=True,
                         text=True, check=True)
    assert '[ERR]' not in res.stdout
    return archive


def test_load_into_fresh_file_with_geometry(reference_dir, tmp_path):
    argv, expected, code = capture(
        reference_dir, 'k2hlinetool_archive_load_fresh_file.out')
    archive = _archive(tmp_path, {
        'key-a': 'a',
        'bulk-0': 'bulkvalue-0123456789abcdef0123456789abcdef',
        'bulk-1': 'bulkvalue-0123456789abcdef0123456789abcdef'})
    fresh = str(tmp_path / 'fresh.k2h')
    cmdfile = argv[argv.index('-run') + 1]
    paths = {REAL_FILE: fresh, REAL_AR: str(archive)}
    paths[cmdfile] = _cmdfile(tmp_path, 'load.cmd', commands(expected),
                              paths)
    assert run(argv, paths) == (expected, code)


def test_load_of_a_missing_archive(reference_dir, tmp_path):
    argv, expected, code = capture(
        reference_dir, 'k2hlinetool_archive_load_missing_file.out')
    cmdfile = argv[argv.index('-run') + 1]
    paths = {REAL_FILE: str(tmp_path / 'node.k2h'),
             MISSING_AR: str(tmp_path / 'no-such.ar')}
    paths[cmdfile] = _cmdfile(tmp_path, 'load.cmd', commands(expected),
                              paths)
    assert run(argv, paths) == (expected, code)


def test_read_only_put_prints_what_the_real_tool_prints(reference_dir,
                                                        tmp_path):
    """The capture's put on a live node: the header, the echoed commands
    and no error (its other commands are not modelled)."""
    argv, expected, code = capture(
        reference_dir, 'k2hlinetool_ro_inspect_archive_put.out')
    assert argv[1:3] == ['-f', REAL_FILE] and '-ro' in argv
    node = tmp_path / 'node.k2h'
    storemod.Store(str(node), init=True)
    archive = tmp_path / 'k2hdkc-node1.ar'
    cmdfile = argv[argv.index('-run') + 1]
    paths = {REAL_FILE: str(node), REAL_AR: str(archive)}
    paths[cmdfile] = _cmdfile(tmp_path, 'put.cmd',
                              ['archive put %s' % REAL_AR, 'quit'], paths)
    out, rc = run(argv, paths)
    header = expected.split('\n> ')[0]
    tail = expected[expected.index('> archive put'):]
    assert (out, rc) == (header + '\n' + tail, code)
    assert archive.is_file()


def test_put_to_a_pipe_fails_like_lseek_pwrite(tmp_path):
    src = tmp_path / 'src.k2h'
    db = storemod.Store(str(src), init=True)
    db.elements = {'k': {'v': 'v', 'm': 1}}
    db.save()
    fifo = tmp_path / 'pipe'
    os.mkfifo(fifo)
    cmds = _cmdfile(tmp_path, 'put.cmd', ['archive put %s' % fifo, 'quit'])
    res = subprocess.run(['k2hlinetool', '-f', str(src), '-ro', '-run',
                          cmds], env=nodemod.env(), capture_output=True,
                         text=True, timeout=30, check=False)
    assert res.returncode == 0
    assert ('[ERR] Something error occurred during putting archive '
            'file(%s).' % fifo) in res.stdout.splitlines()


@pytest.mark.parametrize('cut, loaded, error', [
    (-5, ['a', 'b'], False),    # last record cut short: a quiet end
    (None, ['a'], True),        # a damaged whole record: an error
])
def test_load_of_a_damaged_archive(tmp_path, cut, loaded, error):
    archive = _archive(tmp_path, {'a': '1', 'b': '2', 'c': '3'})
    lines = archive.read_text().splitlines(keepends=True)
    if cut is None:
        lines[1] = 'garbage\n'
    else:
        lines[2] = lines[2][:cut]
    archive.write_text(''.join(lines))
    fresh = tmp_path / 'fresh.k2h'
    cmds = _cmdfile(tmp_path, 'load.cmd', ['archive load %s' % archive,
                                           'quit'])
    res = subprocess.run(['k2hlinetool', '-f', str(fresh), '-run', cmds],
                         env=nodemod.env(), capture_output=True, text=True,
                         timeout=30, check=False)
    assert res.returncode == 0
    assert ('[ERR]' in res.stdout) is error
    db = storemod.Store.open_existing(str(fresh))
    assert sorted(db.elements) == loaded


def test_captures_are_the_ones_the_program_drives(reference_dir):
    """The backup program runs these command shapes (doc/backup.md §1)."""
    argv, _, _ = capture(reference_dir,
                         'k2hlinetool_archive_load_fresh_file.out')
    assert argv[:3] == ['k2hlinetool', '-f', REAL_FILE]
    assert argv[3:-2] == ['-fullmap', '-mask', '8', '-cmask', '4',
                          '-elementcnt', '16', '-pagesize', '128']
    assert argv[-2] == '-run'
    assert pathlib.Path(argv[-1]).suffix == '.cmd'
