"""Runs devstack/plugin.sh phases with bash against the stub of devstack's
function library (stubs/), the way stack.sh sources it: errexit on, the
plugin's settings sourced first, Trove's conf files already written."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

from tests.conftest import REPO_ROOT

PLUGIN_DIR = REPO_ROOT / 'devstack'
STUB_DIR = pathlib.Path(__file__).resolve().parent / 'stubs'

#: What Trove's configure_trove leaves (it recreates both files).
TROVE_CONF = '''[DEFAULT]
taskmanager_manager = trove.taskmanager.manager.Manager
control_exchange = trove

[mariadb]
tcp_ports = 3306,4444,4567,4568
'''
GUEST_CONF = '''[DEFAULT]
transport_url = rabbit://stackrabbit:secret@10.0.0.1:5672/
'''
CLOUDINIT = '#cloud-config\nmanage_etc_hosts: "localhost"\n'

_SCRIPT = ('set -o errexit; source "$STUB_DIR/functions.sh"; '
           'source "$PLUGIN_DIR/settings"; '
           'source "$PLUGIN_DIR/plugin.sh" "$@"')


class Devstack:
    """One devstack host in ``tmp``: config files, stubs' state, log."""

    def __init__(self, tmp: pathlib.Path, plugin_dir=REPO_ROOT, **env: str):
        self.tmp = tmp
        self.etc = tmp / 'etc' / 'trove'
        self.etc.mkdir(parents=True)
        (self.etc / 'cloudinit').mkdir()
        self.trove_conf = self.etc / 'trove.conf'
        self.guest_conf = self.etc / 'trove-guestagent.conf'
        self.trove_conf.write_text(TROVE_CONF)
        self.guest_conf.write_text(GUEST_CONF)
        (self.etc / 'cloudinit' / 'common.cloudinit').write_text(CLOUDINIT)
        (tmp / 'state').mkdir()
        self.log = tmp / 'calls.jsonl'
        self.env = dict(
            os.environ, STUB_DIR=str(STUB_DIR), PLUGIN_DIR=str(PLUGIN_DIR),
            STUB_PYTHON=sys.executable, STUB_LOG=str(self.log),
            STUB_STATE=str(tmp / 'state'),
            STUB_SERVICES='trove,tr-api,tr-tmgr,tr-cond',
            PATH=str(STUB_DIR / 'bin') + os.pathsep + os.environ['PATH'],
            HOME=str(tmp / 'home'), DEST=str(tmp / 'stack'),
            TROVE_DIR=str(tmp / 'stack' / 'trove'),
            REQUIREMENTS_DIR=str(tmp / 'stack' / 'requirements'),
            HORIZON_DIR=str(tmp / 'stack' / 'horizon'),
            TROVE_K2HDKC_DIR=str(plugin_dir),
            TROVE_CONF=str(self.trove_conf),
            TROVE_GUESTAGENT_CONF=str(self.guest_conf),
            TROVE_MANAGE=str(STUB_DIR / 'bin' / 'trove-manage'),
            TROVE_K2HDKC_TEMPLATE_DIR=str(self.etc / 'templates'),
            TROVE_K2HDKC_CLOUDINIT_DIR=str(self.etc / 'cloudinit'),
            TROVE_K2HDKC_K2HR3_API_URL='https://k2hr3.example.net:18080')
        self.env.update(env)

    def run(self, *phase: str) -> list[list[str]]:
        """Runs one phase; returns the calls it made (stub log lines)."""
        before = self.calls()
        res = subprocess.run(['bash', '-c', _SCRIPT, 'plugin', *phase],
                             env=self.env, capture_output=True, text=True,
                             check=False)
        assert res.returncode == 0, res.stdout + res.stderr
        return self.calls()[len(before):]

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


def named(calls: list[list[str]], name: str) -> list[list[str]]:
    """The calls of one program or function, without its name."""
    return [call[1:] for call in calls if call[0] == name]
