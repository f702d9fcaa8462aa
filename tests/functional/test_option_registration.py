"""``[k2hdkc]`` reaches every real Trove program through two config lines.

Each test runs an installed Trove console script in a subprocess with a real
configuration file (see ``trove_entrypoint_probe``): the program parses its
options exactly as in production and is stopped only where it would start
serving. With the registration lines the program sees the file's
``[k2hdkc]`` value; without them it behaves as stock Trove (no such group).
"""

from __future__ import annotations

import json
import pathlib
import shutil
import sqlite3
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT
from tests.functional import trove_entrypoint_probe

# The lines an operator adds (etc/trove/trove.conf.k2hdkc).
REGISTRATION = ('config_source = k2hdkc_options\n\n'
                '[k2hdkc_options]\n'
                'driver = k2hdkc_options\n')

PROBE_MOUNT_POINT = '/srv/k2hdkc-probe-volume'


@pytest.fixture(scope='module')
def synced_db(tmp_path_factory) -> pathlib.Path:
    """A Trove schema made once by the real ``trove-manage db_sync``."""
    folder = tmp_path_factory.mktemp('trove-db')
    conf = write_conf(folder, registered=False)
    done = manage(conf, 'db_sync')
    assert done.returncode == trove_entrypoint_probe.PROBE_EXIT, (
        done.stdout + done.stderr[-3000:])
    return folder / 'trove.sqlite'


def write_conf(folder: pathlib.Path, *, registered: bool,
               db: pathlib.Path | None = None,
               guest_group: str = 'k2hdkc') -> pathlib.Path:
    """A trove.conf with a distinctive [k2hdkc] value and its own DB copy."""
    target = folder / 'trove.sqlite'
    if db is not None:
        shutil.copyfile(db, target)
    path = folder / 'trove.conf'
    path.write_text(f"""[DEFAULT]
transport_url = fake://
{REGISTRATION if registered else ''}

[database]
connection = sqlite:///{target}

[oslo_concurrency]
lock_path = {folder}

[k2hdkc]
mount_point = {PROBE_MOUNT_POINT}

[{guest_group}]
# What the guest agent touches before serving: no volume to format, an
# existing service user.
device_path = proc
database_service_uname = nobody
database_service_uid = 65534
database_service_gid = 65534
""")
    return path


def run_probe(script: str, conf: pathlib.Path, *args: str,
              option: str = 'mount_point') -> dict:
    proc = subprocess.run(
        [sys.executable, '-m', 'tests.functional.trove_entrypoint_probe',
         script, option, '--config-file', str(conf), *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    lines = [line for line in proc.stdout.splitlines()
             if line.startswith('PROBE ')]
    assert lines, ('%s never reached its serve step (rc=%s)\nstdout:\n%s\n'
                   'stderr:\n%s' % (script, proc.returncode, proc.stdout,
                                    proc.stderr[-4000:]))
    assert proc.returncode == trove_entrypoint_probe.PROBE_EXIT, proc.stderr
    return json.loads(lines[-1][len('PROBE '):])


CONTROLLER_SCRIPTS = ['trove-api', 'trove-wsgi', 'trove-taskmanager',
                      'trove-conductor']


@pytest.mark.parametrize('script', CONTROLLER_SCRIPTS)
def test_controller_program_reads_k2hdkc_group(tmp_path, synced_db,
                                               script):
    conf = write_conf(tmp_path, registered=True, db=synced_db)
    result = run_probe(script, conf)
    assert result == {'value': PROBE_MOUNT_POINT,
                      'config_source': ['k2hdkc_options']}


@pytest.mark.parametrize('script', CONTROLLER_SCRIPTS)
def test_controller_program_without_registration_is_stock_trove(
        tmp_path, synced_db, script):
    conf = write_conf(tmp_path, registered=False, db=synced_db)
    result = run_probe(script, conf)
    assert result['error'] == 'NoSuchOptError'
    assert 'k2hdkc' in result['message']


GUEST_INFO = """
[DEFAULT]
guest_id = 4f0e8d5c-1111-4222-8333-944455556666
datastore_manager = {manager}
datastore_registry_ext = k2hdkc:trove_k2hdkc.guest.manager.Manager
"""


def test_guestagent_reads_k2hdkc_group_before_loading_manager(tmp_path):
    # trove-guestagent reads [<datastore_manager>] uid/gid/uname/device_path/
    # mount_point before it imports the manager: that is the hard case.
    conf = write_conf(tmp_path, registered=True)
    info = tmp_path / 'guest_info.conf'
    info.write_text(GUEST_INFO.format(manager='k2hdkc'))
    result = run_probe('trove-guestagent', conf, '--config-file', str(info))
    assert result['value'] == PROBE_MOUNT_POINT


def test_guestagent_k2hdkc_fails_without_registration(tmp_path):
    conf = write_conf(tmp_path, registered=False)
    info = tmp_path / 'guest_info.conf'
    info.write_text(GUEST_INFO.format(manager='k2hdkc'))
    proc = subprocess.run(
        [sys.executable, '-m', 'tests.functional.trove_entrypoint_probe',
         'trove-guestagent', 'mount_point', '--config-file', str(conf),
         '--config-file', str(info)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert 'PROBE' not in proc.stdout
    assert 'NoSuchOptError: no such option k2hdkc' in (proc.stdout
                                                       + proc.stderr)


def test_guestagent_other_datastore_unchanged_without_registration(tmp_path):
    conf = write_conf(tmp_path, registered=False, guest_group='mysql')
    info = tmp_path / 'guest_info.conf'
    info.write_text(GUEST_INFO.format(manager='mysql'))
    result = run_probe('trove-guestagent', conf, '--config-file', str(info))
    assert result['error'] == 'NoSuchOptError'


def manage(conf: pathlib.Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, '-m', 'tests.functional.trove_entrypoint_probe',
         'trove-manage', 'replication_namespace', '--config-file', str(conf),
         *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)


def register_version(conf: pathlib.Path) -> subprocess.CompletedProcess:
    # Without --repl-strategy trove-manage derives it from
    # CONF.get('k2hdkc').replication_namespace/_strategy.
    done = manage(conf, 'datastore_update', 'k2hdkc', '')
    assert done.returncode == trove_entrypoint_probe.PROBE_EXIT, (
        done.stdout + done.stderr[-3000:])
    return manage(conf, 'datastore_version_update', 'k2hdkc', '1.0.16',
                  'k2hdkc', '', '', '1', '--registry-ext',
                  'trove_k2hdkc.guest.manager.Manager')


def test_manage_registers_version_using_k2hdkc_options(tmp_path,
                                                       synced_db):
    conf = write_conf(tmp_path, registered=True, db=synced_db)
    done = register_version(conf)
    assert done.returncode == trove_entrypoint_probe.PROBE_EXIT, (
        done.stdout + done.stderr[-3000:])
    with sqlite3.connect(tmp_path / 'trove.sqlite') as db:
        row = db.execute(
            'SELECT manager, registry_ext, repl_strategy FROM '
            'datastore_versions WHERE name = ?', ('1.0.16',)).fetchone()
    assert row == ('k2hdkc', 'trove_k2hdkc.guest.manager.Manager',
                   'trove_k2hdkc.guest.replication.K2hdkcReplication')


def test_manage_without_registration_fails_like_stock_trove(tmp_path,
                                                            synced_db):
    conf = write_conf(tmp_path, registered=False, db=synced_db)
    done = register_version(conf)
    assert done.returncode != trove_entrypoint_probe.PROBE_EXIT
    assert 'NoSuchOptError: no such option k2hdkc' in done.stdout
