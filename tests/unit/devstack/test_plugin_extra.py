"""devstack/plugin.sh, extra phase, against the stub of devstack's function
library: container images, the guest image (built with Trove's elements
plus ours, uploaded with its tags), the trove-manage registration, the
restart of Trove's services, and that a second run changes nothing."""

from __future__ import annotations

import json
import shutil

from tests.conftest import REPO_ROOT
from tests.unit.devstack.plugin_run import Devstack
from tests.unit.devstack.plugin_run import named

VERSION = '1.0.16'
MANAGER = 'trove_k2hdkc.guest.manager.Manager'
REPL = 'trove_k2hdkc.guest.replication.K2hdkcReplication'


def registration(image_id=''):
    return [
        ['datastore_update', 'k2hdkc', ''],
        ['datastore_version_update', 'k2hdkc', VERSION, 'k2hdkc', image_id,
         '', '1', '--image-tags', 'trove,k2hdkc', '--registry-ext', MANAGER,
         '--repl-strategy', REPL],
        ['datastore_update', 'k2hdkc', VERSION]]


def test_extra_builds_both_containers_from_this_checkout(tmp_path):
    calls = Devstack(tmp_path).run('stack', 'extra')
    builds = [c for c in named(calls, 'docker') if c[0] == 'build']
    assert builds == [
        ['build', '-t', 'trove-k2hdkc/k2hdkc:' + VERSION, '-f',
         str(REPO_ROOT / 'guestagent/Dockerfile'),
         str(REPO_ROOT / 'guestagent')],
        ['build', '-t', 'trove-k2hdkc/db-backup-k2hdkc:' + VERSION, '-f',
         str(REPO_ROOT / 'backup_image/Dockerfile'), str(REPO_ROOT)]]
    assert not [c for c in named(calls, 'docker') if c[0] == 'push']


def test_guest_image_uses_troves_elements_plus_ours_and_embeds_images(
        tmp_path):
    calls = Devstack(tmp_path).run('stack', 'extra')
    [[env, *args]] = named(calls, 'disk-image-create')
    env = json.loads(env)
    assert env['ELEMENTS_PATH'] == '%s:%s' % (
        tmp_path / 'stack/trove/integration/scripts/files/elements',
        REPO_ROOT / 'guestagent' / 'elements')
    assert env['DEV_MODE'] == 'false'     # the guest runs installed code
    assert env['DIB_REPOLOCATION_trove_k2hdkc'] == str(REPO_ROOT)
    assert env['DIB_TROVE_DOCKER_IMAGES'].split() == [
        'trove-k2hdkc/k2hdkc:' + VERSION,
        'trove-k2hdkc/db-backup-k2hdkc:' + VERSION]
    assert args[-8:] == ['base', 'vm', 'ubuntu-minimal',
                         'cloud-init-datasources', 'pip-cache',
                         'guest-agent', 'ubuntu-docker', 'trove-k2hdkc-guest']
    assert (REPO_ROOT / 'guestagent/elements/trove-k2hdkc-guest').is_dir()


def test_guest_image_is_uploaded_with_the_tags_the_version_asks_for(
        tmp_path):
    calls = Devstack(tmp_path).run('stack', 'extra')
    [create] = [c for c in named(calls, 'openstack') if 'create' in c]
    assert create[:4] == ['--os-cloud', 'trove', 'image', 'create']
    assert create[4] == 'trove-guest-k2hdkc-' + VERSION
    tags = [create[i + 1] for i, a in enumerate(create) if a == '--tag']
    assert tags == ['trove', 'k2hdkc']
    assert create[create.index('--file') + 1] == str(
        tmp_path / ('home/images/trove-guest-k2hdkc-%s.qcow2' % VERSION))


def test_extra_registers_the_version_then_restarts_trove(tmp_path):
    calls = Devstack(tmp_path).run('stack', 'extra')
    assert named(calls, 'trove-manage') == registration()
    names = [c[0] for c in calls]
    assert names[-2:] == ['stop_trove', 'start_trove']
    assert names.index('disk-image-create') < names.index('trove-manage')


def test_second_extra_builds_and_uploads_nothing(tmp_path):
    host = Devstack(tmp_path)
    first = host.run('stack', 'extra')
    second = host.run('stack', 'extra')
    assert not [c for c in named(second, 'docker') if c[0] == 'build']
    assert not named(second, 'disk-image-create')
    assert not [c for c in named(second, 'openstack') if 'create' in c]
    assert named(second, 'trove-manage') == named(first, 'trove-manage')
    state = json.loads((tmp_path / 'state/images.json').read_text())
    assert len(state) == 1


def test_registry_gets_the_images_and_the_guest_pulls_them(tmp_path):
    calls = Devstack(tmp_path, TROVE_K2HDKC_REGISTRY='10.0.0.1:4000').run(
        'stack', 'extra')
    pushes = [c for c in named(calls, 'docker') if c[0] == 'push']
    assert pushes == [['push', '10.0.0.1:4000/trove-k2hdkc/k2hdkc:' + VERSION],
                      ['push', '10.0.0.1:4000/trove-k2hdkc/db-backup-k2hdkc:'
                       + VERSION]]
    [[env, *_]] = named(calls, 'disk-image-create')
    assert json.loads(env)['DIB_TROVE_DOCKER_IMAGES'] == ''


def test_given_image_id_is_pinned_and_nothing_is_built(tmp_path):
    calls = Devstack(tmp_path, TROVE_K2HDKC_GUEST_IMAGE_ID='glance-1',
                     TROVE_K2HDKC_BUILD_CONTAINERS='False').run(
        'stack', 'extra')
    assert not named(calls, 'disk-image-create') + named(calls, 'docker')
    assert not named(calls, 'openstack')
    assert named(calls, 'trove-manage') == registration('glance-1')


def test_image_url_is_downloaded_instead_of_built(tmp_path):
    url = 'https://images.example.net/k2hdkc.qcow2'
    calls = Devstack(tmp_path, TROVE_K2HDKC_GUEST_IMAGE_URL=url).run(
        'stack', 'extra')
    assert not named(calls, 'disk-image-create')
    [curl] = named(calls, 'curl')
    assert url in curl


def test_validation_rules_are_loaded_when_the_checkout_has_them(tmp_path):
    plugin = tmp_path / 'plugin'
    shutil.copytree(REPO_ROOT / 'etc', plugin / 'etc')
    rules = plugin / 'etc/trove/templates/k2hdkc/validation-rules.json'
    rules.write_text('{"configuration-parameters": []}')
    calls = Devstack(tmp_path, plugin_dir=plugin).run('stack', 'extra')
    assert named(calls, 'trove-manage')[-1] == [
        'db_load_datastore_config_parameters', 'k2hdkc', VERSION, str(rules)]


def test_horizon_is_restarted_with_it(tmp_path):
    calls = Devstack(tmp_path, STUB_SERVICES='trove,horizon').run(
        'stack', 'extra')
    assert calls[-1] == ['restart_apache_server']
