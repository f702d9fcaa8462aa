"""The cluster's user edits the cluster's K2HR3 objects with their own
token, then grows: the grow fails naming what was edited, no file outside
the nodes' data dirs is touched and the ring keeps serving.

Through the real Trove services and the stock ``openstack`` CLI. The edits
are made the way any user of the project can: their Keystone token
exchanged for a K2HR3 user token of the tenant, then the K2HR3 API
(doc/k2hr3-layout.md §5). What stops each one:

* ``k2hdkc-k2hfile`` naming a sentinel file outside the data dir: the
  key's form is fine for the control plane, so it reaches the guests,
  which refuse the INI naming ``K2HFILE`` (chmpx/_ini_rules.py);
  The grow is undone and every member's fault says why;
* ``cluster-name`` with ``../``, an ``ATTRPLUGIN`` line or a ``GROUP``
  line with ``../`` in the template: trove-api reads the record before it
  builds a member and answers 400 naming it (k2hr3/layout.py).

One cluster serves every case (edit, grow, check, put the objects back);
a refused grow changes nothing, so the next case starts from the same
ring.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
import contextlib
import dataclasses
import hashlib
import os
import pathlib
from typing import Any

import pytest

from tests.rig import cli
from tests.rig import cluster
from tests.rig import dataset
from tests.rig import procs
from tests.rig import scenario
from tests.rig import slave
from trove_k2hdkc.k2hr3 import layout

pytestmark = pytest.mark.rig

N_KEYS = 200
SENTINEL_TEXT = 'precious: whatever a K2HFILE outside the data dir names\n'
#: An mtime no write can produce by accident.
SENTINEL_MTIME_NS = 1_000_000_000 * 10**9
#: The template line after which the ATTRPLUGIN line goes.
K2HINIT_LINE = 'K2HINIT             = no\n'
GROUP_LINE = 'GROUP               = {{= %cluster-name% }}'


@contextlib.contextmanager
def users_k2hr3(info: dict[str, Any], cluster_id: str
                ) -> Iterator[tuple[Any, Any, str]]:
    """(client, the user's K2HR3 token, the cluster's resource name) as
    the project's user gets them with their own Keystone token."""
    with slave._client(info) as client:
        user = slave._user_token(client, info)
        yield client, user, layout.ClusterNames(user.tenant,
                                                cluster_id).name


@dataclasses.dataclass(frozen=True)
class Edit:
    """What the user changes: ``keys`` (merged) and/or a template line
    ``old`` -> ``new``; ``named`` must be in the 400 (``at_api``) or in
    the members' fault."""

    keys: Callable[[str, pathlib.Path], dict[str, Any]] = (
        lambda name, sentinel: {})
    old: str = ''
    new: str = ''
    named: str = ''
    at_api: bool = True


EDITS = {
    'k2hfile_outside': Edit(
        keys=lambda name, sentinel: {'k2hdkc-k2hfile': str(sentinel)},
        named='[K2HDKC] K2HFILE: a path outside the data directory',
        at_api=False),
    'cluster_name_dotdot': Edit(
        keys=lambda name, sentinel: {'cluster-name': '../' + name},
        named='cluster-name is not'),
    'attrplugin_line': Edit(
        old=K2HINIT_LINE, new=K2HINIT_LINE + 'ATTRPLUGIN = {dir}/evil.so\n',
        named='(ATTRPLUGIN)'),
    'group_line_dotdot': Edit(
        old=GROUP_LINE, new=GROUP_LINE.replace('{{=', '../{{='),
        named='(GROUP)'),
}


def _fingerprints(root: pathlib.Path) -> dict[str, tuple]:
    """Every file and folder below ``root``: size, mtime, content hash."""
    out = {}
    for path in sorted(root.rglob('*')):
        st = path.lstat()
        digest = (hashlib.sha256(path.read_bytes()).hexdigest()
                  if path.is_file() else None)
        out[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns,
                                            digest)
    return out


def _named_after(cluster_id: str) -> list[str]:
    """Entries of the host's /var/lib named after the cluster (a GROUP
    with ``../`` would put chmpx's files there, beside antpickax)."""
    return sorted(n for n in os.listdir('/var/lib') if cluster_id in n)


@pytest.fixture(scope='module')
def loaded(trove_rig: Any) -> Iterator[scenario.Loaded]:
    loaded = scenario.load(trove_rig, 'trust', 1, N_KEYS)
    try:
        yield loaded
    finally:
        scenario.delete(loaded)


@pytest.fixture(scope='module')
def sentinel(trove_rig: Any) -> pathlib.Path:
    """A file outside every node's data dir (the VMs see the host's
    /var/tmp, where the rig's state lives), named like a K2HFILE."""
    folder = trove_rig.state_dir / 'outside-data'
    folder.mkdir()
    path = folder / 'k2hdkc.k2h'
    path.write_text(SENTINEL_TEXT)
    os.utime(path, ns=(SENTINEL_MTIME_NS, SENTINEL_MTIME_NS))
    return path


def _apply(client: Any, user: Any, name: str, edit: Edit,
           sentinel: pathlib.Path) -> None:
    resource = client.get_resource(user, name)
    keys = dict(resource.keys, **edit.keys(name, sentinel))
    data = resource.string
    if edit.old:
        assert edit.old in data, edit.old
        data = data.replace(edit.old, edit.new.replace(
            '{dir}', str(sentinel.parent)), 1)
    client.put_resource(user, name, data=data, keys=keys)


def _grow(info: dict[str, Any], cid: str) -> str | None:
    """``cluster grow``; the CLI's error text, or None if accepted."""
    try:
        cluster.grow(info, cid)
    except RuntimeError as exc:
        return str(exc)
    return None


def _wait_task_ended(info: dict[str, Any], cid: str,
                     timeout: float = 600) -> None:
    """Until the cluster has no task (an accepted grow ran its course),
    so that a failed case leaves the next one a cluster it can grow."""
    procs.wait_until(lambda: cli.openstack(
        info, 'database', 'cluster', 'show', cid)['task_name'] == 'NONE',
        timeout, 'cluster %s to end its task' % cid, interval=3)


@pytest.mark.timeout(900)
@pytest.mark.parametrize('edit', sorted(EDITS))
def test_users_edit_fails_the_grow_and_touches_nothing(loaded, sentinel,
                                                       edit):
    info, cid = loaded.info, loaded.id
    members = cluster.instances(info, cid)
    before = (_fingerprints(sentinel.parent), _named_after(cid))
    case = EDITS[edit]
    with users_k2hr3(info, cid) as (client, user, name):
        original = client.get_resource(user, name)
        _apply(client, user, name, case, sentinel)
        try:
            refused = _grow(info, cid)
        finally:
            # The taskmanager reads K2HR3 once the new member is built,
            # long after the CLI returned: put back only after the task.
            try:
                _wait_task_ended(info, cid)
            finally:
                client.put_resource(user, name, data=original.string,
                                    keys=original.keys)

    if case.at_api:
        assert refused is not None, 'the grow was accepted'
        assert 'HTTP 400' in refused and case.named in refused, refused
    else:
        assert refused is None, refused
    # Only now: the rig's client node re-renders its INI from K2HR3.
    after = loaded.settle(len(members))
    assert sorted(m['id'] for m in after) == sorted(m['id']
                                                    for m in members)
    if not case.at_api:
        # ``fault`` is cut to 255 characters, ``fault_details`` is whole;
        # Trove breaks their lines at ': ', '. ' and ' ('.
        faults = [' '.join(str(m.get('fault_details')).split())
                  for m in after]
        for fault in faults:
            assert case.named in fault, faults
            assert 'undone, the cluster is as it was' in fault, faults
    assert sentinel.read_text() == SENTINEL_TEXT
    assert sentinel.stat().st_mtime_ns == SENTINEL_MTIME_NS
    assert (_fingerprints(sentinel.parent), _named_after(cid)) == before

    report = loaded.check()
    assert report.ok, 'after the refused grow: %s' % report
    fresh = dataset.DataSet.make(20, 'new-' + edit.replace('_', '-'))
    loaded.client.run(fresh.load_commands())
    report = dataset.check(fresh, loaded.client.values)
    assert report.ok, 'new writes after the refused grow: %s' % report
