"""The docker runtime at the Docker SDK boundary (a recording fake)."""

from __future__ import annotations

import docker

from trove_k2hdkc.guest.runtime import docker as drt


class FakeContainers:
    def __init__(self):
        self.runs = []

    def get(self, name):
        raise docker.errors.NotFound('no %s' % name)

    def run(self, image, **kwargs):
        self.runs.append((image, kwargs))


class FakeClient:
    def __init__(self):
        self.containers = FakeContainers()


def test_start_creates_database_container_from_the_guestagent_image():
    client = FakeClient()
    made = []
    rt = drt.DockerRuntime(lambda: made.append(1) or client,
                           image='trove-k2hdkc/k2hdkc:1.0',
                           ini_path='/etc/antpickax/k2hdkc.ini',
                           conf_dir='/etc/antpickax',
                           data_dir='/var/lib/antpickax/k2hdkc',
                           ctlport=8021, detach_wait=1.5)
    assert made == []
    rt.start()
    [(image, kw)] = client.containers.runs
    assert image == 'trove-k2hdkc/k2hdkc:1.0'
    assert kw['name'] == 'database'
    assert kw['network_mode'] == 'host'
    assert kw['ipc_mode'] == 'host'
    assert kw['stop_signal'] == 'SIGHUP'
    assert set(kw['volumes']) == {'/etc/antpickax',
                                  '/var/lib/antpickax/k2hdkc'}
    # guestagent/k2hdkc-node (the image's entrypoint and HEALTHCHECK)
    # runs the node; the runtime only tells it where things are.
    assert 'entrypoint' not in kw and 'healthcheck' not in kw
    assert kw['environment'] == {
        'K2HDKC_INI': '/etc/antpickax/k2hdkc.ini', 'K2HDKC_CTLPORT': '8021',
        'K2HDKC_RUN_DIR': '/var/run/antpickax',
        'K2HDKC_DETACH_WAIT_MS': '1500'}


class FakeContainer:
    status = 'running'

    def __init__(self, log, containers):
        self.log = log
        self.containers = containers

    def stop(self, timeout):
        self.log.append(('stop', timeout))

    def remove(self):
        self.log.append(('remove',))
        self.containers.container = None

    output = b''

    def exec_run(self, argv):
        self.log.append(('exec', argv[-1]))
        return 0, self.output

    def restart(self, timeout):
        self.log.append(('restart', timeout))


class OneContainer(FakeContainers):
    def __init__(self, log):
        super().__init__()
        self.container = FakeContainer(log, self)

    def get(self, name):
        if self.container is None:
            raise docker.errors.NotFound('no %s' % name)
        return self.container


def runtime(client, image='registry:5000/antpickax/k2hdkc-trove:old',
            version='1.0.109'):
    return drt.DockerRuntime(lambda: client, image=image,
                             ini_path='/etc/antpickax/k2hdkc.ini',
                             conf_dir='/etc/antpickax',
                             data_dir='/var/lib/antpickax/k2hdkc',
                             ctlport=8021, version=version)


def test_image_tag_is_the_datastore_version():
    assert drt.repository('registry:5000/a/b:1.0') == 'registry:5000/a/b'
    assert drt.repository('registry:5000/a/b') == 'registry:5000/a/b'
    assert drt.repository('b@sha256:abc') == 'b'
    assert drt.repository('b:1') == 'b'
    client = FakeClient()
    runtime(client).start()
    [(image, _)] = client.containers.runs
    assert image == 'registry:5000/antpickax/k2hdkc-trove:1.0.109'


def test_upgrade_recreates_the_container_from_the_new_tag():
    log = []
    client = FakeClient()
    client.containers = OneContainer(log)
    rt = runtime(client)
    rt.upgrade('1.0.110')
    assert log == [('stop', rt.stop_timeout), ('remove',)]
    [(image, kw)] = client.containers.runs
    assert image == 'registry:5000/antpickax/k2hdkc-trove:1.0.110'
    assert kw['name'] == 'database'


def test_stop_k2hdkc_kills_after_the_timeout():
    log = []
    client = FakeClient()
    client.containers = OneContainer(log)
    assert runtime(client).stop_k2hdkc() is True
    [(_, script)] = log
    assert 'kill -HUP $p' in script
    assert ('[ $t -eq 50 ] && echo %s && kill -KILL $p' % drt._KILLED
            in script)


def test_stop_k2hdkc_says_when_it_needed_sigkill():
    client = FakeClient()
    client.containers = OneContainer([])
    client.containers.container.output = drt._KILLED.encode() + b'\n'
    assert runtime(client).stop_k2hdkc() is False


def test_restart_chmpx_holds_k2hdkc_and_restarts_the_container():
    log = []
    client = FakeClient()
    client.containers = OneContainer(log)
    runtime(client).restart_chmpx()
    assert log == [('exec', 'touch %s' % drt.HOLD_FILE), ('restart', 30)]


def test_resume_leaves_docker_alone():
    made = []
    rt = drt.DockerRuntime(lambda: made.append(1), image='i', ini_path='x',
                           conf_dir='c', data_dir='d', ctlport=1)
    rt.resume()
    assert made == []
