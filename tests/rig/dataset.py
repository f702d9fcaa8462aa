"""The data set of the scaling tests and benchmark, and how it is checked.

Keys are written through a CHMPX slave; every tenth key is deleted
afterwards so that a resurrected delete (doc/ring-procedures.md §5) shows
as a wrong value. ``check`` says exactly which keys are missing, wrong
or back from the dead, so a failure report is evidence, not a count.
"""

from __future__ import annotations

from collections.abc import Callable
import dataclasses

DELETED_EVERY = 10


@dataclasses.dataclass(frozen=True)
class DataSet:
    """``values``: key -> value written; ``deleted``: keys removed after."""

    values: dict[str, str]
    deleted: tuple[str, ...]

    @classmethod
    def make(cls, count: int, prefix: str = 'key') -> DataSet:
        values = {'%s-%05d' % (prefix, i): 'value-%05d' % i
                  for i in range(count)}
        return cls(values, tuple(sorted(values)[::DELETED_EVERY]))

    def expected(self) -> dict[str, str | None]:
        gone = set(self.deleted)
        return {k: (None if k in gone else v)
                for k, v in self.values.items()}

    def load_commands(self) -> list[str]:
        """``k2hdkclinetool`` lines that write then delete."""
        return (['set %s %s' % kv for kv in self.values.items()]
                + ['rm %s' % k for k in self.deleted])


@dataclasses.dataclass(frozen=True)
class Report:
    """What a read-back found; ``ok`` only if nothing is off."""

    total: int
    missing: tuple[str, ...]        # live key that read as no value
    wrong: tuple[str, ...]          # live key with another value
    resurrected: tuple[str, ...]    # deleted key that has a value again

    @property
    def ok(self) -> bool:
        return not (self.missing or self.wrong or self.resurrected)

    @property
    def readable(self) -> int:
        return self.total - len(self.missing) - len(self.wrong)

    def __str__(self) -> str:
        return ('%d/%d live keys readable, %d missing (e.g. %s), %d wrong, '
                '%d deleted keys back (e.g. %s)' % (
                    self.readable, self.total, len(self.missing),
                    list(self.missing[:3]), len(self.wrong),
                    len(self.resurrected), list(self.resurrected[:3])))


def parse_print(stdout: str, keys: list[str]) -> dict[str, str | None]:
    """Values from ``k2hdkclinetool`` output of ``print <key>`` lines
    (``"key" => "value"``); None for a key it printed no value for."""
    found: dict[str, str | None] = dict.fromkeys(keys)
    for line in stdout.splitlines():
        if line.startswith('"') and '" => "' in line:
            key, _, value = line.partition('" => "')
            found[key[1:]] = value[:-1] if value.endswith('"') else value
    return found


def check(data: DataSet,
          read: Callable[[list[str]], dict[str, str | None]]) -> Report:
    """Read every key with ``read`` (key list -> {key: value or None})."""
    want = data.expected()
    got = read(list(want))
    missing, wrong, back = [], [], []
    for key, value in want.items():
        if value is None:
            if got.get(key) is not None:
                back.append(key)
        elif got.get(key) is None:
            missing.append(key)
        elif got[key] != value:
            wrong.append(key)
    live = sum(1 for v in want.values() if v is not None)
    return Report(live, tuple(missing), tuple(wrong), tuple(back))
