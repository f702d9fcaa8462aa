"""archive.put/load driving the k2hlinetool stand-in (doc/backup.md §1)."""

from __future__ import annotations

import glob
import os

import pytest

from tests.functional.backup import node as nodemod
from tests.functional.backup.node import standin_path  # noqa: F401
from trove_k2hdkc.backup import archive

# the backup code run here finds the stand-in k2hlinetool
pytestmark = pytest.mark.usefixtures('standin_path')


def _node(tmp_path, count):
    data = {'k%06d' % i: os.urandom(24).hex() for i in range(count)}
    node = nodemod.Node(tmp_path).create(data)
    return node, archive.NodeFile.from_ini(str(node.ini))


def test_put_frees_what_it_has_read(tmp_path):
    """The archive is never whole on disk: by the last chunk every byte
    before it has been punched out of the file."""
    node, nodefile = _node(tmp_path, 40000)
    chunks, allocated, size = [], 0, 0
    for chunk in archive.put(nodefile, str(node.k2hfile.parent)):
        chunks.append(chunk)
        [path] = glob.glob(str(node.k2hfile.parent / '.k2hdkc-backup-*'
                               / 'node.k2har'))
        st = os.stat(path)
        allocated, size = st.st_blocks * 512, st.st_size
    assert size > 2 * archive.CHUNK
    assert allocated <= archive.CHUNK + 8192
    body = b''.join(chunks).decode()
    assert len(body.splitlines()) == 40000
    assert node.files() == ['data', 'data/k2hdkc.k2h', 'k2hdkc.ini']


def test_put_error_is_raised_and_cleaned(tmp_path,
                                         monkeypatch):
    node, nodefile = _node(tmp_path, 3)
    monkeypatch.setattr(archive, 'TOOL', str(tmp_path / 'fake-tool'))
    (tmp_path / 'fake-tool').write_text(
        '#!/bin/sh\necho "> archive put x"\n'
        'echo "[ERR] Something error occurred during putting archive '
        'file(x)."\nexit 0\n')
    (tmp_path / 'fake-tool').chmod(0o755)
    with pytest.raises(archive.ArchiveError, match=r'\[ERR\] Something'):
        list(archive.put(nodefile, str(node.k2hfile.parent)))
    assert node.files() == ['data', 'data/k2hdkc.k2h', 'fake-tool',
                            'k2hdkc.ini']


def test_load_error_removes_the_fresh_file(tmp_path):
    node, nodefile = _node(tmp_path, 3)
    bad = tmp_path / 'bad.ar'
    bad.write_text('garbage\n{"k": "a", "v": "b"}\n')
    with pytest.raises(archive.ArchiveError, match='archive load failed'):
        archive.load(nodefile, str(bad))
    assert node.files() == ['bad.ar', 'data', 'data/k2hdkc.k2h',
                            'k2hdkc.ini']


def test_geometry_from_the_ini(tmp_path):
    node = nodemod.Node(tmp_path).create({})
    nodefile = archive.NodeFile.from_ini(str(node.ini))
    assert nodefile.path == str(node.k2hfile)
    assert nodefile.create_args() == [
        '-fullmap', '-mask', '8', '-cmask', '4', '-elementcnt', '16',
        '-pagesize', '128']


def test_memory_node_is_refused(tmp_path):
    node = nodemod.Node(tmp_path).create({})
    node.ini.write_text(node.ini.read_text().replace(
        'K2HTYPE             = file', 'K2HTYPE             = mem'))
    with pytest.raises(archive.ArchiveError, match='K2HTYPE=mem'):
        archive.NodeFile.from_ini(str(node.ini))

