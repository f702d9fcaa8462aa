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


def test_start_creates_database_container_with_sighup_and_health():
    client = FakeClient()
    made = []
    rt = drt.DockerRuntime(lambda: made.append(1) or client,
                           image='antpickax/k2hdkc-trove:1.0',
                           ini_path='/etc/antpickax/k2hdkc.ini',
                           conf_dir='/etc/antpickax',
                           data_dir='/var/lib/antpickax/k2hdkc',
                           ctlport=8021)
    assert made == []
    rt.start()
    [(image, kw)] = client.containers.runs
    assert image == 'antpickax/k2hdkc-trove:1.0'
    assert kw['name'] == 'database'
    assert kw['network_mode'] == 'host'
    assert kw['stop_signal'] == 'SIGHUP'
    assert set(kw['volumes']) == {'/etc/antpickax',
                                  '/var/lib/antpickax/k2hdkc'}
    test = ' '.join(kw['healthcheck']['test'])
    assert '/dev/tcp/127.0.0.1/8021' in test and '0x21(' in test
    script = kw['entrypoint'][-1]
    # chmpx first; on HUP k2hdkc is stopped before chmpx.
    assert script.index('chmpx -conf') < script.index('k2hdkc -conf')
    trap = script[script.index('shutdown()'):]
    assert trap.index('"$kpid"') < trap.index('"$cpid"')
    assert 'kill -HUP "$cpid"' in script
