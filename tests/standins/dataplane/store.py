"""k2hdkc's key store: elements with value, subkeys, mtime, queue, CAS.

Why: merges move elements by hash range and mtime exactly like k2hash's
GetElementsByHash / SetElementByBinArray (doc/ring-procedures.md §1), which
is what makes keys go missing or come back; the store keeps the fields
those rules need.  The file is a JSON snapshot written to a temporary
name and renamed over (never observed half-written) plus a journal of
single-key writes appended next to it, so that a write costs O(1) (a real
k2hash file is mmap'ed: SIGKILL loses nothing, and neither does this).
Journal lines carry the snapshot's generation: a K2HFILE moved aside (the
purge) takes its journal's meaning with it.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid

from tests.standins.dataplane import common

#: Journal lines after which the snapshot is rewritten.
COMPACT_AFTER = 5000


class Store:
    def __init__(self, path: str | None, init: bool) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.elements: dict[str, dict] = {}
        self.last_update = 0  # ns; 0 in a fresh file
        self.generation = ''
        self.journaled = 0
        if path and not init:
            self.load()
        if path:
            self.save()

    @classmethod
    def open_existing(cls, path: str) -> Store:
        """The file at ``path`` as it is, without writing it (what an
        offline tool that may only read sees)."""
        db = cls(None, init=True)
        db.path = path
        db.load()
        return db

    @property
    def journal_path(self) -> str:
        return '%s.journal' % self.path

    def load(self) -> None:
        try:
            with open(self.path, encoding='utf-8') as fobj:
                data = json.load(fobj)
        except (OSError, ValueError):
            return
        self.elements = data.get('elements', {})
        self.last_update = int(data.get('last_update', 0))
        self.generation = data.get('generation', '')
        self._replay()

    def _replay(self) -> None:
        try:
            with open(self.journal_path, encoding='utf-8') as fobj:
                lines = fobj.readlines()
        except OSError:
            return
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                break   # a write cut short by a kill: the end
            if entry.get('g') != self.generation:
                continue
            if entry.get('e') is None:
                self.elements.pop(entry['k'], None)
            else:
                self.elements[entry['k']] = entry['e']
            self.last_update = int(entry.get('u', self.last_update))

    def save(self) -> None:
        if not self.path:
            return
        os.makedirs(os.path.dirname(self.path) or '.', exist_ok=True)
        self.generation = uuid.uuid4().hex
        tmp = '%s.tmp.%d' % (self.path, os.getpid())
        with open(tmp, 'w', encoding='utf-8') as fobj:
            json.dump({'format': 'k2hdkc-standin/1',
                       'generation': self.generation,
                       'last_update': self.last_update,
                       'elements': self.elements}, fobj)
        os.replace(tmp, self.path)
        with open(self.journal_path, 'w', encoding='utf-8'):
            pass
        self.journaled = 0

    def touch(self, *keys: str) -> None:
        """Record a change: of ``keys`` only (journal), or of anything
        (snapshot)."""
        self.last_update = time.time_ns()
        if not self.path:
            return
        if not keys or self.journaled >= COMPACT_AFTER:
            self.save()
            return
        with open(self.journal_path, 'a', encoding='utf-8') as fobj:
            for key in keys:
                fobj.write(json.dumps({'g': self.generation, 'k': key,
                                       'e': self.elements.get(key),
                                       'u': self.last_update}) + '\n')
        self.journaled += len(keys)

    def live(self, key: str) -> dict | None:
        elem = self.elements.get(key)
        if elem is None:
            return None
        exp = elem.get('x')
        if exp and exp <= time.time_ns():
            return None
        return elem

    # -- merge support --------------------------------------------------

    def get_range(self, target: int, count: int, tmax: int, old: int,
                  omax: int, startts: int) -> list[dict]:
        out = []
        with self.lock:
            for key, elem in self.elements.items():
                h = common.key_hash(common.s2b(key))
                if (h % tmax - target) % tmax >= count:
                    continue
                if old >= 0 and omax > 0 and \
                        (h % omax - old) % omax < count and \
                        elem.get('m', 0) < startts:
                    continue
                out.append(dict(elem, k=key))
        return out

    def set_elements(self, elements: list[dict]) -> int:
        added = 0
        with self.lock:
            for elem in elements:
                key = elem.pop('k')
                cur = self.elements.get(key)
                if cur is not None and cur.get('m', 0) >= elem.get('m', 0):
                    continue
                self.elements[key] = elem
                added += 1
            self.touch()
        return added
