"""Hierarchical object store (resources, roles) with the real quirks.

A node deleted while it has children becomes a "ghost": its data is gone
(reads through it fail) but it stays listed until it is deleted again or
its last child goes.  Creating a child creates missing ancestors as
ghosts, so expanding a child whose parent was never created fails like a
child whose parent was deleted.
"""

from __future__ import annotations

from typing import Any


class Tree:
    def __init__(self) -> None:
        self.nodes: dict[str, Any] = {}   # path -> data, None = ghost

    def get(self, path: str) -> Any:
        return self.nodes.get(path)

    def exists(self, path: str) -> bool:
        return self.nodes.get(path) is not None

    def put(self, path: str, data: Any) -> None:
        parts = path.split('/')
        for depth in range(1, len(parts)):
            self.nodes.setdefault('/'.join(parts[:depth]), None)
        self.nodes[path] = data

    def children(self, path: str) -> list[str]:
        prefix = path + '/'
        return sorted(p for p in self.nodes if p.startswith(prefix))

    def delete(self, path: str) -> None:
        if path not in self.nodes:
            return
        if self.children(path):
            self.nodes[path] = None
            return
        del self.nodes[path]
        self._prune(path)

    def _prune(self, path: str) -> None:
        while '/' in path:
            path = path.rsplit('/', 1)[0]
            if self.nodes.get(path, 0) is not None or self.children(path):
                return
            del self.nodes[path]

    def ancestors(self, path: str) -> list[str]:
        """Ancestor paths, root first, then ``path`` itself."""
        parts = path.split('/')
        return ['/'.join(parts[:depth]) for depth in range(1, len(parts) + 1)]

    def listing(self, root: str, expand: bool) -> list[dict]:
        """``children`` of ``/v1/list``: names are the last path element."""
        prefix = root + '/' if root else ''
        names = sorted({p[len(prefix):].split('/', 1)[0]
                        for p in self.nodes if p.startswith(prefix)
                        and len(p) > len(prefix)})
        result = []
        for name in names:
            full = prefix + name
            children = self.listing(full, True) if expand else []
            result.append({'name': name, 'children': children})
        return result

    def present(self) -> list[str]:
        return sorted(p for p, v in self.nodes.items() if v is not None)
