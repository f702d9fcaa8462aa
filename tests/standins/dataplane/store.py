"""k2hdkc's key store: elements with value, subkeys, mtime, queue, CAS.

Why: merges move elements by hash range and mtime exactly like k2hash's
GetElementsByHash / SetElementByBinArray (k2hdkc-scaling.md §2.3), which
is what makes keys go missing or come back; the store keeps the fields
those rules need.  The file is JSON written to a temporary name and
renamed over (never observed half-written).
"""

from __future__ import annotations

import json
import os
import threading
import time

from tests.standins.dataplane import common


class Store:
    def __init__(self, path: str | None, init: bool) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.elements: dict[str, dict] = {}
        self.last_update = 0  # ns; 0 in a fresh file
        if path and not init:
            self.load()
        if path:
            self.save()

    def load(self) -> None:
        try:
            with open(self.path, encoding='utf-8') as fobj:
                data = json.load(fobj)
        except (OSError, ValueError):
            return
        self.elements = data.get('elements', {})
        self.last_update = int(data.get('last_update', 0))

    def save(self) -> None:
        if not self.path:
            return
        os.makedirs(os.path.dirname(self.path) or '.', exist_ok=True)
        tmp = '%s.tmp.%d' % (self.path, os.getpid())
        with open(tmp, 'w', encoding='utf-8') as fobj:
            json.dump({'format': 'k2hdkc-standin/1',
                       'last_update': self.last_update,
                       'elements': self.elements}, fobj)
        os.replace(tmp, self.path)

    def touch(self) -> None:
        self.last_update = time.time_ns()
        self.save()

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
