"""Variable scope: the resource keys plus built-in (YRN) variables.

The real engine keeps template variables in the same object as the
resource keys, which is why assigned (and unknown, as null) variables
show up in ``resource.keys`` of an expanded read.  Built-ins such as role
host lists are resolved on every read and never stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Builtins = Callable[[str], tuple[bool, Any]]


class Scope:
    def __init__(self, keys: dict[str, Any], builtins: Builtins) -> None:
        self.keys = keys
        self._builtins = builtins

    def read(self, name: str) -> Any:
        if name in self.keys:
            return self.keys[name]
        found, value = self._builtins(name)
        if found:
            return value
        self.keys[name] = None
        return None

    def write(self, name: str, value: Any) -> None:
        self.keys[name] = value
