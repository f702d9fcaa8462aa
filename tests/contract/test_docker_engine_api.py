"""The docker node runtime through the real docker SDK's request builder
against a scripted Engine (no engine): the Engine API calls it makes are
the recorded ones (tests/data/docker_engine/README.md)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import REPO_ROOT
from tests.contract.docker_engine import Engine
from trove_k2hdkc.guest.runtime import docker as drt

RECORDED = json.loads((REPO_ROOT / 'tests/data/docker_engine/'
                       'runtime_calls.json').read_text())


def runtime(engine: Engine) -> drt.DockerRuntime:
    return drt.DockerRuntime(
        engine.client, image='trove-k2hdkc/k2hdkc', version='1.0.16',
        ini_path='/etc/antpickax/k2hdkc.ini', conf_dir='/etc/antpickax',
        data_dir='/var/lib/antpickax/k2hdkc', ctlport=8021)


OPERATIONS = {
    'start': (False, lambda rt: rt.start()),
    'stop': (True, lambda rt: rt.stop()),
    'restart_chmpx': (True, lambda rt: rt.restart_chmpx()),
    'upgrade': (True, lambda rt: rt.upgrade('1.0.17')),
    'stop_k2hdkc': (True, lambda rt: rt.stop_k2hdkc()),
}


@pytest.mark.parametrize('operation', sorted(OPERATIONS))
def test_engine_calls_are_the_recorded_ones(operation):
    running, call = OPERATIONS[operation]
    engine = Engine(running=running)
    call(runtime(engine))
    assert engine.calls == RECORDED[operation]


def test_created_container_is_the_guestagent_image_with_its_entrypoint():
    [create] = [c for c in RECORDED['start']
                if c['path'] == '/containers/create']
    body = create['body']
    assert create['query'] == {'name': 'database'}
    assert 'Entrypoint' not in body and 'Healthcheck' not in body
    assert body['StopSignal'] == 'SIGHUP'
    assert body['HostConfig']['NetworkMode'] == 'host'
    assert body['HostConfig']['IpcMode'] == 'host'


def test_exec_output_comes_through_the_sdks_stream_framing():
    """stop_k2hdkc reads the exec's stdout (Engine stream frames)."""
    engine = Engine(running=True,
                    exec_output=drt._KILLED.encode() + b'\n')
    assert runtime(engine).stop_k2hdkc() is False
    assert runtime(Engine(running=True)).stop_k2hdkc() is True


def test_missing_container_is_not_found_not_an_error():
    engine = Engine()
    runtime(engine).stop()
    assert [c['path'] for c in engine.calls] == ['/containers/database/json']
