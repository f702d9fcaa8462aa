"""Backups end to end in the rig, against its real Swift.

Single instance, with the stock ``openstack`` CLI only: keys written
through a client node, ``database backup create``, the instance deleted,
``database instance create --backup`` into a new instance, every key read
back (the backup encrypted with the guests' ``backup_aes_cbc_key``); an
incremental backup is refused with 400; the backup damaged in Swift makes
a restored instance ERROR with the reason; deleting the backup deletes
its Swift objects.

Cluster backup set, with the plugin's ``openstack database cluster backup``
commands: 3 members hold keys, a set is taken, the cluster is deleted,
the set restored into a new cluster where every key acknowledged before
the set started reads back (and no deleted key returns); deleting the set
deletes its backups and their Swift objects (doc/backup.md §6).

One module, run in order (an instance takes a minute to build on two
cores, a cluster two).
"""

from __future__ import annotations

import time

import pytest

from tests.functional.rig.test_instance_e2e import _ip
from tests.functional.rig.test_instance_e2e import _wait_gone
from tests.functional.rig.test_instance_e2e import _wait_instance
from tests.rig import backups
from tests.rig import cli
from tests.rig import cluster
from tests.rig import dataset
from tests.rig import procs
from tests.rig import scenario
from tests.rig import slave

pytestmark = pytest.mark.rig

N_KEYS = 2000
SET_KEYS = 3000


def _create_instance(rig, name: str, *extra: str) -> str:
    info = rig.info
    return rig.openstack(
        'database', 'instance', 'create', name, '--flavor', '1', '--size',
        '1', '--datastore', 'k2hdkc', '--datastore-version',
        info['datastore_version'], '--nic',
        'net-id=%s' % info['network']['id'], *extra)['id']


def _client(rig, instance_id: str, name: str) -> slave.RigSlave:
    """A client node of the instance, registered before the node fetches
    its first INI (so the server lists it)."""
    client = slave.RigSlave(rig.info, instance_id,
                            rig.state_dir / ('slave-' + name))
    client.register()
    return client


def _serving(rig, client: slave.RigSlave, instance_id: str) -> None:
    shown = _wait_instance(rig.info, instance_id)
    client.start()
    client.wait_ring([_ip(shown)])


def _delete_instance(rig, instance_id: str) -> None:
    rig.openstack('database', 'instance', 'delete', instance_id,
                  parse=False)
    _wait_gone(rig.info, instance_id)


@pytest.fixture(scope='module')
def rig(trove_rig):
    if not trove_rig.info.get('swift'):
        pytest.fail('the rig runs no Swift: install test-requirements.txt')
    return trove_rig


@pytest.mark.timeout(1500)
def test_single_instance_backup_and_restore_with_the_stock_cli(rig):
    info = rig.info
    data = dataset.DataSet.make(N_KEYS, 'single')
    src = _create_instance(rig, 'bk-src')
    client = _client(rig, src, 'bk-src')
    try:
        _serving(rig, client, src)
        client.run(data.load_commands())
        report = dataset.check(data, client.values)
        assert report.ok, report

        made = rig.openstack('database', 'backup', 'create', 'bk-full',
                             '--instance', src)
        done = backups.wait_backup(info, made['id'])
        manifest = done['locationRef'].rsplit('/', 1)[1]
        assert done['locationRef'] == '%s%s/database_backups/%s' % (
            info['swift']['url_prefix'], info['project_id'], manifest)
        # the rig's guests have a backup_aes_cbc_key: encrypted
        # (doc/backup.md §2), and restored below
        assert manifest == made['id'] + '.k2har.gz.enc'
        assert done['size'] > 0
        objects = backups.stored(info, made['id'])
        assert manifest in objects
        assert made['id'] + '_00000000' in objects

        # k2hdkc backups are full backups only (doc/backup.md §3): the
        # API answers 400 with the reason, and records nothing.
        with pytest.raises(RuntimeError) as refused:
            rig.openstack('database', 'backup', 'create', 'bk-inc',
                          '--instance', src, '--incremental')
        assert 'HTTP 400' in str(refused.value), refused.value
        assert 'incremental backups are not supported' in str(
            refused.value), refused.value
        assert 'bk-inc' not in {b['Name'] for b in rig.openstack(
            'database', 'backup', 'list')}

        # Swift's object server down: FAILED with the reason, nothing
        # left in Swift, and the node serves every key meanwhile.
        with backups.object_server_down(info):
            down = rig.openstack('database', 'backup', 'create', 'bk-down',
                                 '--instance', src)
            failed = backups.wait_backup(info, down['id'],
                                         states=('FAILED',))
            assert 'FAILED: ' in (failed['description'] or ''), failed
            report = dataset.check(data, client.values)
            assert report.ok, 'while Swift was down: %s' % report
        assert backups.stored(info, down['id']) == []
        rig.openstack('database', 'backup', 'delete', down['id'],
                      parse=False)
    finally:
        client.stop()
    _delete_instance(rig, src)

    dst = _create_instance(rig, 'bk-dst', '--backup', made['id'])
    client = _client(rig, dst, 'bk-dst')
    try:
        _serving(rig, client, dst)
        report = dataset.check(data, client.values)
        assert report.ok, 'restored instance: %s' % report
    finally:
        client.stop()
    _delete_instance(rig, dst)

    # The same backup damaged in Swift (one byte of its segment changed):
    # the restore fails, the instance ends ERROR with the reason as its
    # fault, its node never started; deleting it leaves nothing.
    backups.corrupt_segment(info, made['id'])
    bad = _create_instance(rig, 'bk-bad', '--backup', made['id'])
    shown = backups.wait_instance_error(info, bad)
    assert 'restore from backup %s failed' % made['id'] in ' '.join(
        (shown.get('fault') or '').split()), shown
    _delete_instance(rig, bad)

    rig.openstack('database', 'backup', 'delete', made['id'], parse=False)

    def gone() -> bool:
        listed = {b['ID'] for b in rig.openstack('database', 'backup',
                                                  'list')}
        return (made['id'] not in listed
                and backups.stored(info, made['id']) == [])
    procs.wait_until(gone, 60, 'the backups and their Swift objects to go')


def _wait_set(info, set_id, timeout=600):
    deadline = time.monotonic() + timeout
    while True:
        shown = cli.openstack(info, 'database', 'cluster', 'backup', 'show',
                              set_id)
        if shown['status'] != 'BUILDING':
            return shown
        if time.monotonic() > deadline:
            raise RuntimeError('backup set %s still BUILDING' % set_id)
        time.sleep(3)


@pytest.mark.timeout(2400)
def test_cluster_backup_set_restored_into_a_new_cluster(rig):
    info = rig.info
    loaded = scenario.load(rig, 'bset', 3, SET_KEYS)
    try:
        members = sorted(m['id'] for m in cluster.instances(info, loaded.id))
        made = rig.openstack('database', 'cluster', 'backup', 'create',
                             loaded.id, 'set1', '--description', 'nightly')
        shown = _wait_set(info, made['id'])
        assert shown['status'] == 'COMPLETED', shown
        assert shown['member_count'] == 3
        assert shown['cluster_id'] == loaded.id
        # Ring order: member i is the i-th instance id in sort order.
        assert [line.split('(instance ')[1].split(')')[0]
                for line in shown['members'].splitlines()] == members
        backup_ids = [line.split()[1] for line in
                      shown['members'].splitlines()]
        for bid in backup_ids:
            stored = backups.stored(info, bid)
            assert bid + '_00000000' in stored
            assert {bid + '.k2har.gz', bid + '.k2har.gz.enc'} & set(stored)
        listed = rig.openstack('database', 'cluster', 'backup', 'list')
        assert [s['ID'] for s in listed] == [made['id']]
        # Trove's own list shows the member backups too.
        assert set(backup_ids) <= {b['ID'] for b in rig.openstack(
            'database', 'backup', 'list')}
        cluster.wait_active(info, loaded.id)
    finally:
        scenario.delete(loaded)

    restored = rig.openstack(
        'database', 'cluster', 'backup', 'restore', made['id'], 'bset2',
        '--flavor', '1', '--size', '1', '--nic',
        'net-id=%s' % info['network']['id'])
    again = scenario.attach(rig, restored['id'], 'bset2', 3, loaded.data)
    try:
        report = again.check()
        assert report.ok, 'restored cluster: %s' % report
        assert report.total == len(loaded.data.values) - len(
            loaded.data.deleted)
    finally:
        scenario.delete(again)

    rig.openstack('database', 'cluster', 'backup', 'delete', made['id'],
                  parse=False)

    def gone() -> bool:
        return (rig.openstack('database', 'cluster', 'backup', 'list') == []
                and all(backups.stored(info, b) == [] for b in backup_ids))
    procs.wait_until(gone, 120, 'the set and its Swift objects to go')
