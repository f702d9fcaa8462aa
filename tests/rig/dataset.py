"""The data set of the scaling tests and benchmark, and how it is checked.

Keys are written through a CHMPX slave; every tenth key is deleted
afterwards so that a resurrected delete (doc/ring-procedures.md §5) shows
as a wrong value. ``check`` says exactly which keys are missing, wrong
or back from the dead, so a failure report is evidence, not a count.

Every command's result is checked, because ``k2hdkclinetool`` prints
nothing for a ``set`` that worked and only ``[ERR]`` lines on stderr for
one that failed, and even a healthy ring has a few transient read errors
(doc/ring-procedures.md §10): ``write`` reads back each write and retries
it, ``check`` re-reads a key before it calls it lost.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
import dataclasses
import re
import time

DELETED_EVERY = 10
WRITE_ATTEMPTS = 3
REREADS = 3
PAUSE = 1.0
# Commands per k2hdkclinetool run. A run of 10,000 prints on the real
# programs took over 300 s on the loaded 2-core machine (and timed out);
# 1,000 stay well inside any run's limit and cost little.
BATCH = 1000

#: ``k2hdkclinetool`` output lines of ``print <key>``
#: (tests/data/reference/README.md, linetool output); a read that
#: failed prints neither, only ``[ERR]`` on stderr.
_FOUND_RE = re.compile(r'^"(?P<key>.*)" => "(?P<value>.*)"$')
_ABSENT_RE = re.compile(r'^"(?P<key>.*)" => value is not found$')

#: commands -> (stdout, stderr) of one ``k2hdkclinetool -run``.
Runner = Callable[[list[str]], tuple[str, str]]


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
class Reads:
    """What ``print`` said per key: a value, ``value is not found``
    (``absent``), or nothing at all because the read failed."""

    values: dict[str, str]
    absent: frozenset[str]
    failed: frozenset[str]

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def updated(self, newer: Reads) -> Reads:
        """These reads with the keys ``newer`` read again replaced."""
        again = set(newer.values) | newer.absent | newer.failed
        values = {k: v for k, v in self.values.items() if k not in again}
        values.update(newer.values)
        return Reads(values, frozenset((self.absent - again) | newer.absent),
                     frozenset((self.failed - again) | newer.failed))


def parse_print(stdout: str, keys: Iterable[str]) -> Reads:
    """The result of each ``print <key>`` in ``stdout``; a key with no
    result line is a failed read."""
    values: dict[str, str] = {}
    absent: set[str] = set()
    for line in stdout.splitlines():
        found = _FOUND_RE.match(line)
        if found:
            values[found['key']] = found['value']
            absent.discard(found['key'])
            continue
        missing = _ABSENT_RE.match(line)
        if missing:
            absent.add(missing['key'])
            values.pop(missing['key'], None)
    wanted = set(keys)
    return Reads({k: v for k, v in values.items() if k in wanted},
                 frozenset(absent & wanted),
                 frozenset(wanted - set(values) - absent))


def batches(items: list[str], size: int = BATCH) -> list[list[str]]:
    """``items`` in runs of at most ``size``, in order."""
    return [items[i:i + size] for i in range(0, len(items), size)]


def reader(run: Runner) -> Callable[[list[str]], Reads]:
    """A ``check`` reader over a linetool runner, in runs of ``BATCH``."""
    def read(keys: list[str]) -> Reads:
        found = Reads({}, frozenset(), frozenset())
        for part in batches(keys):
            found = found.updated(parse_print(
                run(['print %s' % k for k in part])[0], part))
        return found
    return read


def write_batched(run: Runner, commands: list[str]) -> int:
    """``write`` in runs of half a ``BATCH`` (each write gets a print);
    returns the writes repeated."""
    return sum(write(run, part) for part in batches(commands, BATCH // 2))


class WriteFailed(AssertionError):
    """Writes that did not read back after every attempt."""

    def __init__(self, commands: list[str], stderr: str) -> None:
        errors = [line for line in stderr.splitlines()
                  if line.startswith('[ERR]')]
        super().__init__('%d writes failed %d times, e.g. %s; last errors: '
                         '%s' % (len(commands), WRITE_ATTEMPTS,
                                 commands[:3], errors[:4]))
        self.commands = commands


def _effect(line: str) -> tuple[str, str | None] | None:
    """(key, value it must read back as) of a ``set k v`` / ``rm k``;
    None for a command whose result is not a plain value."""
    words = line.split()
    if len(words) == 3 and words[0] == 'set':
        return words[1], words[2]
    if len(words) == 2 and words[0] == 'rm':
        return words[1], None
    return None


def _one_per_key(lines: list[str]) -> list[list[str]]:
    """``lines`` in order, cut where a key comes again: a run's reads are
    told apart by key."""
    runs: list[list[str]] = [[]]
    keys: set[str] = set()
    for line in lines:
        effect = _effect(line)
        if effect is not None and effect[0] in keys:
            runs.append([])
            keys = set()
        if effect is not None:
            keys.add(effect[0])
        runs[-1].append(line)
    return [run for run in runs if run]


def _not_read_back(lines: list[str], stdout: str) -> list[str]:
    """The writes among ``lines`` whose key ``stdout`` does not show
    with the value (or absence) the write left."""
    effects = [(line, _effect(line)) for line in lines]
    reads = parse_print(stdout, [e[0] for _, e in effects if e])
    return [line for line, e in effects if e is not None and (
        reads.get(e[0]) != e[1] or e[0] in reads.failed)]


def _write_once(run: Runner, lines: list[str]) -> tuple[list[str], str]:
    """Run ``lines``, each write followed by a ``print`` of its key;
    the writes that did not read back, and stderr."""
    script: list[str] = []
    for line in lines:
        script.append(line)
        effect = _effect(line)
        if effect is not None:
            script.append('print %s' % effect[0])
    stdout, stderr = run(script)
    return _not_read_back(lines, stdout), stderr


def _reread(run: Runner, lines: list[str]) -> list[str]:
    """The writes among ``lines`` that still do not read back in a run
    of ``print`` alone."""
    keys = [e[0] for e in map(_effect, lines) if e is not None]
    return _not_read_back(lines, run(['print %s' % k for k in keys])[0])


def write(run: Runner, commands: list[str], *,
          attempts: int = WRITE_ATTEMPTS, pause: float = PAUSE,
          sleep: Callable[[float], None] = time.sleep) -> int:
    """Run ``commands`` and make sure each ``set``/``rm`` took: one that
    does not read back is read again (a read error is no failed write),
    and only if it still does not, written again, up to ``attempts``
    writes in all, then ``WriteFailed``. Returns how many writes were
    repeated.

    Why the re-read: with a ring member down, real k2hdkc 1.0.16 at times
    answers the ``print`` right after an ``rm`` in the same linetool run
    with an empty value, while a later run reads the key as not found."""
    retries = 0
    for part in _one_per_key(commands):
        todo, stderr = _write_once(run, part)
        writes = 1
        while todo:
            sleep(pause)
            todo = _reread(run, todo)
            if todo and writes == attempts:
                raise WriteFailed(todo, stderr)
            if todo:
                retries += len(todo)
                writes += 1
                todo, stderr = _write_once(run, todo)
    return retries


@dataclasses.dataclass(frozen=True)
class Report:
    """What a read-back found; ``ok`` only if nothing is off. A key read
    only on a re-read is ``transient`` (a read error, not a loss)."""

    total: int
    missing: tuple[str, ...]        # live key that read as no value: lost
    wrong: tuple[str, ...]          # live key with another value
    resurrected: tuple[str, ...]    # deleted key that has a value again
    unreadable: tuple[str, ...] = ()    # every read of it failed
    transient: tuple[str, ...] = ()     # read only on a re-read

    @property
    def ok(self) -> bool:
        return not (self.missing or self.wrong or self.resurrected
                    or self.unreadable)

    @property
    def readable(self) -> int:
        return (self.total - len(self.missing) - len(self.wrong)
                - len(self.unreadable))

    def __str__(self) -> str:
        return ('%d/%d live keys readable, %d lost (e.g. %s), %d wrong, '
                '%d deleted keys back (e.g. %s), %d unreadable (e.g. %s), '
                '%d needed a re-read' % (
                    self.readable, self.total, len(self.missing),
                    list(self.missing[:3]), len(self.wrong),
                    len(self.resurrected), list(self.resurrected[:3]),
                    len(self.unreadable), list(self.unreadable[:3]),
                    len(self.transient)))


def _unsettled(want: dict[str, str | None], reads: Reads,
               keys: Iterable[str]) -> set[str]:
    """Keys worth reading again: a live key without a value, any key
    whose read failed."""
    return {k for k in keys if k in reads.failed
            or (want[k] is not None and reads.get(k) is None)}


def check(data: DataSet, read: Callable[[list[str]], Reads], *,
          rereads: int = REREADS, pause: float = PAUSE,
          sleep: Callable[[float], None] = time.sleep) -> Report:
    """Read every key with ``read``; a key not read is read again up to
    ``rereads`` times, ``pause`` apart, before it counts as lost."""
    want = data.expected()
    reads = read(list(want))
    first = pending = _unsettled(want, reads, want)
    for _ in range(rereads):
        if not pending:
            break
        sleep(pause)
        reads = reads.updated(read(sorted(pending)))
        pending = _unsettled(want, reads, pending)
    missing, wrong, back, unreadable = [], [], [], []
    for key, value in want.items():
        got = reads.get(key)
        if key in reads.failed:
            unreadable.append(key)
        elif value is None:
            if got is not None:
                back.append(key)
        elif got is None:
            missing.append(key)
        elif got != value:
            wrong.append(key)
    live = sum(1 for v in want.values() if v is not None)
    return Report(live, tuple(missing), tuple(wrong), tuple(back),
                  tuple(unreadable), tuple(sorted(first - pending)))
