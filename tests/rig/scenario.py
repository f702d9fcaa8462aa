"""A loaded K2HDKC cluster in the rig: created with the CLI, a client
node (CHMPX slave) and a data set written through it, checked after every
step. Shared by the data-safety tests and the benchmark."""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import dataclasses
import threading
from typing import Any

from tests.rig import cluster
from tests.rig import dataset
from tests.rig import slave
from trove_k2hdkc.exceptions import K2hdkcError

HEALTHY = 0x21


@dataclasses.dataclass
class Loaded:
    rig: Any   # tests.rig.fixture.RigHandle
    id: str
    client: slave.RigSlave
    data: dataset.DataSet

    @property
    def info(self) -> dict:
        return self.rig.info

    def rings(self) -> tuple[list[dict], dict[str, list | None]]:
        """Members, and each member's ``views`` entry."""
        members = cluster.instances(self.info, self.id)
        return members, views([m['ip'] for m in members])

    def assert_ring(self, count: int) -> list[dict]:
        members, rings = self.rings()
        ips = sorted(m['ip'] for m in members)
        assert len(ips) == count
        assert rings == dict.fromkeys(ips, [(ip, HEALTHY) for ip in ips])
        return members

    def settle(self, count: int, timeout: float = 600) -> list[dict]:
        """After a change: ACTIVE, ``count`` healthy members, the slave
        re-rendered from K2HR3 and seeing exactly them."""
        cluster.wait_active(self.info, self.id, timeout=timeout)
        members = self.assert_ring(count)
        self.client.refresh()
        self.client.wait_ring([m['ip'] for m in members])
        return members

    def check(self) -> dataset.Report:
        """Read every key back; the figures are printed (pytest -s shows
        them) so a run's output carries the key counts."""
        report = dataset.check(self.data, self.client.values)
        print('data check (%d deleted keys): %s'
              % (len(self.data.deleted), report), flush=True)
        return report

    def write(self) -> None:
        """Write the data set through the client; it must read back."""
        self.client.run(self.data.load_commands())
        report = self.check()
        assert report.ok, report

    def delete_more(self, every: int) -> None:
        """Delete further keys now; they must stay deleted."""
        gone = set(self.data.deleted)
        extra = [k for k in sorted(self.data.values)[1::every]
                 if k not in gone]
        self.client.run(['rm %s' % k for k in extra])
        self.data = dataclasses.replace(
            self.data, deleted=self.data.deleted + tuple(extra))


def start(rig: Any, name: str, count: int,
          data: dataset.DataSet) -> Loaded:
    """Create a ``count``-member cluster ``name`` and start a client node
    that sees it healthy; ``Loaded.write`` then writes ``data``."""
    return attach(rig, cluster.create(rig.info, name, count)['id'], name,
                  count, data)


def attach(rig: Any, cid: str, name: str, count: int,
           data: dataset.DataSet) -> Loaded:
    """A client node for cluster ``cid``, created just now by whatever
    means (e.g. a restore): registered before the members fetch their
    first INI, started once the cluster is healthy."""
    client = slave.RigSlave(rig.info, cid, rig.state_dir / ('slave-' + name))
    loaded = Loaded(rig, cid, client, data)
    try:
        # Before the members fetch their first INI, so they list the slave.
        client.register()
        cluster.wait_active(rig.info, cid)
        members = loaded.assert_ring(count)
        client.start()
        client.wait_ring([m['ip'] for m in members])
    except BaseException:
        delete(loaded)
        raise
    return loaded


def load(rig: Any, name: str, count: int, keys: int) -> Loaded:
    """``start``, then write ``keys`` keys (then delete every tenth)."""
    loaded = start(rig, name, count, dataset.DataSet.make(keys, name))
    try:
        loaded.write()
    except BaseException:
        delete(loaded)
        raise
    return loaded


def delete(loaded: Loaded) -> None:
    """Stop the client, delete the cluster; nothing may stay in K2HR3."""
    loaded.client.stop()
    loaded.rig.openstack('database', 'cluster', 'delete', loaded.id,
                         parse=False)
    cluster.wait_gone(loaded.info, loaded.id)
    assert cluster.k2hr3_objects(loaded.info, loaded.id) == []


def views(ips: list[str]) -> dict[str, list[tuple[str, int]] | None]:
    """{member ip: sorted [(server ip, status code)]} as each member's
    chmpx sees the ring; None for a member whose chmpx does not answer."""
    out: dict[str, list[tuple[str, int]] | None] = {}
    for ip in ips:
        try:
            ring = cluster.all_status(ip)
        except K2hdkcError:
            out[ip] = None
            continue
        out[ip] = sorted((s.server_name, s.status.code)
                         for s in ring.servers)
    return out


def all_healthy(rings: dict[str, list | None]) -> bool:
    """Every member answers and sees exactly the members, all 0x21."""
    want = [(ip, HEALTHY) for ip in sorted(rings)]
    return all(ring == want for ring in rings.values())


def ring_healthy(loaded: Loaded, count: int) -> bool:
    """Every one of ``count`` members answers and sees all of them 0x21."""
    members, rings = loaded.rings()
    return len(members) == count and all_healthy(rings)


@contextlib.contextmanager
def out_of_service(ips: list[str], interval: float = 0.05
                   ) -> Iterator[list[int]]:
    """Sample, every ``interval`` s while the block runs, how many of the
    members at ``ips`` are out of service: chmpx not answering, or not
    0x21 in its own view. Yields the list the samples go to."""
    samples: list[int] = []
    done = threading.Event()

    def count() -> int:
        return sum(ring is None or dict(ring).get(ip) != HEALTHY
                   for ip, ring in views(ips).items())

    def run() -> None:
        while not done.wait(interval):
            samples.append(count())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        done.set()
        thread.join()
