"""The stand-in k2hash file keeps what a real one keeps (K2HINIT=no,
doc/ring-procedures.md §5 purge, §6 SIGKILL): every acknowledged write survives
a kill, and a file moved aside takes all its keys with it."""

from __future__ import annotations

import os

from tests.standins.dataplane import k2hdkc_main
from tests.standins.dataplane import store as storemod


def _write(db, key, value):
    assert k2hdkc_main.execute(db, {'op': 'set', 'key': key, 'v': value})


def _read(path):
    db = storemod.Store(path, init=False)
    return {k: db.live(k)['v'] for k in db.elements if db.live(k)}


def test_writes_survive_a_kill_without_save(tmp_path):
    path = str(tmp_path / 'data.k2h')
    db = storemod.Store(path, init=True)
    for i in range(20):
        _write(db, 'k%d' % i, 'v%d' % i)
    k2hdkc_main.execute(db, {'op': 'rm', 'key': 'k3'})
    # No save(): the process dies here, as with SIGKILL.
    got = _read(path)
    assert got == {'k%d' % i: 'v%d' % i for i in range(20) if i != 3}


def test_compaction_keeps_every_key(tmp_path, monkeypatch):
    monkeypatch.setattr(storemod, 'COMPACT_AFTER', 5)
    path = str(tmp_path / 'data.k2h')
    db = storemod.Store(path, init=True)
    for i in range(23):
        _write(db, 'k%d' % i, 'v%d' % i)
    assert db.journaled <= 5
    assert len(_read(path)) == 23


def test_file_moved_aside_starts_empty(tmp_path):
    """The purge moves K2HFILE away: the journal beside it must not
    bring the old keys into the fresh file."""
    path = str(tmp_path / 'data.k2h')
    db = storemod.Store(path, init=True)
    _write(db, 'stale', 'old')
    os.replace(path, path + '.purge')
    fresh = storemod.Store(path, init=False)
    assert fresh.elements == {}
    assert fresh.last_update == 0
    assert _read(path) == {}


def test_restart_with_k2hinit_no_keeps_keys(tmp_path):
    path = str(tmp_path / 'data.k2h')
    db = storemod.Store(path, init=True)
    _write(db, 'a', '1')
    again = storemod.Store(path, init=False)
    _write(again, 'b', '2')
    assert _read(path) == {'a': '1', 'b': '2'}
