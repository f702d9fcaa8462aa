"""The floor of ``grow 3 -> 4``: the same data-plane change by hand.

Why: a Trove grow figure alone says nothing about how much of it is
Trove. Here the verified grow (doc/ring-procedures.md §3) is driven
directly on a local ring of the same data-plane programs the rig's VMs
run (``binaries``), with the same data set, so what Trove adds on top is
the difference. Needs no rig; a measurement, it asserts nothing about
the times. ``floor_ns`` runs it where real programs work.
"""

from __future__ import annotations

from collections.abc import Callable
import dataclasses
import pathlib
import tempfile
import time

from tests.rig import binaries
from tests.rig import dataset
from tests.standins.dataplane import harness

SERVERS = 4
START = 3
# Commands per k2hdkclinetool run: keeps each run well inside the
# harness's 120 s limit on a loaded machine, and costs little.
BATCH = 1000
CTL_TRIES = 3


@dataclasses.dataclass(frozen=True)
class Floor:
    """Seconds of each step, and what the read-back found."""

    keys: int
    load: float        # writing the data set through the slave
    ring: float        # ring.grow until the slave sees 4 x 0x21
    read: float        # reading every key back
    purge: float       # doc/ring-procedures.md §5 purge of every member
    report: dataset.Report


def batches(items: list[str], size: int = BATCH) -> list[list[str]]:
    """``items`` in runs of at most ``size``, in order."""
    return [items[i:i + size] for i in range(0, len(items), size)]


def reader(run: dataset.Runner) -> Callable[[list[str]], dataset.Reads]:
    """A ``dataset.check`` reader over a linetool runner, in batches."""
    def read(keys: list[str]) -> dataset.Reads:
        found = dataset.Reads({}, frozenset(), frozenset())
        for part in batches(keys):
            found = found.updated(dataset.parse_print(
                run(['print %s' % k for k in part])[0], part))
        return found
    return read


class Ring(harness.LocalRing):
    """The harness's local ring, running the programs found on ``path``
    instead of always the stand-ins.

    ``base_port`` numbers the ports from there on, as the real captures
    did (28020...): real chmpx keeps a port in a signed 16-bit field, so
    the harness's ephemeral ports (above 32767) break it. Only for a
    network of the ring's own, where no port is taken.
    """

    def __init__(self, workdir, path: str, base_port: int | None = None,
                 **kwargs) -> None:
        super().__init__(workdir, **kwargs)
        self.path = path
        if base_port is not None:
            for n, node in enumerate(self.nodes + [self.slave]):
                node['port'] = base_port + 2 * n
                node['ctlport'] = base_port + 2 * n + 1

    def env(self, node: dict) -> dict:
        env = super().env(node)
        env['PATH'] = self.path
        return env

    def ctl(self, num, command: str) -> str:
        """Real chmpx 1.0.109 now and then resets a control connection
        it failed to register (it logs "AcceptCtlport: Failed to add
        socket"), before reading the command: sending it again is safe."""
        for _ in range(CTL_TRIES - 1):
            try:
                return super().ctl(num, command)
            except ConnectionResetError:
                time.sleep(0.2)
        return super().ctl(num, command)


def load(run: dataset.Runner, data: dataset.DataSet) -> None:
    """Write (then delete) the data set through ``run``, every write
    checked (``dataset.write`` adds a print to each: half-size batches)."""
    for part in batches(data.load_commands(), BATCH // 2):
        dataset.write(run, part)


def _seconds(action) -> float:
    start = time.monotonic()
    action()
    return time.monotonic() - start


def measure(keys: int, path: str | None = None,
            workdir: pathlib.Path | None = None,
            base_port: int | None = None) -> Floor:
    """Bootstrap 3 of 4 local servers of the programs on ``path`` (default:
    the rig's choice, ``binaries.search_path``), load ``keys`` keys, then
    time the hand-driven grow, the read-back and the purge."""
    data = dataset.DataSet.make(keys)
    path = path if path is not None else binaries.search_path()
    with tempfile.TemporaryDirectory(prefix='k2floor-',
                                     dir=workdir) as tmp:
        with Ring(tmp, path, base_port, servers=SERVERS) as ring:
            ring.bootstrap(START)
            loaded = _seconds(lambda: load(ring.linetool, data))
            grow = _seconds(lambda: ring.grow(SERVERS))
            box: dict[str, dataset.Report] = {}

            def read() -> None:
                box['report'] = dataset.check(data, reader(ring.linetool))
            took = _seconds(read)
            purge = _seconds(ring.purge)
    return Floor(keys, loaded, grow, took, purge, box['report'])


def show(floor: Floor) -> None:
    print('floor, %d keys (by hand, no Trove):' % floor.keys)
    for what, secs in (('load keys', floor.load),
                       ('grow 3 -> 4, ring converged', floor.ring),
                       ('all keys readable', floor.read),
                       ('purge', floor.purge)):
        print('  %-30s %7.1f s' % (what, secs))
    print('  read-back: %s' % floor.report, flush=True)
