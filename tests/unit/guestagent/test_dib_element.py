"""guestagent/elements/trove-k2hdkc-guest: its install script, run with a
fake virtualenv, installs the plugin there and a config file with which
trove-guestagent's config directory registers [k2hdkc]."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

from oslo_config import cfg

from tests.conftest import REPO_ROOT

ELEMENT = REPO_ROOT / 'guestagent' / 'elements' / 'trove-k2hdkc-guest'
SCRIPT = ELEMENT / 'install.d' / '75-trove-k2hdkc-install'

_FAKE_PIP = '''#!%s
import json, os, sys
with open(os.environ['PIP_LOG'], 'a') as f:
    f.write(json.dumps(sys.argv[1:]) + '\\n')
''' % sys.executable


def run_element(tmp_path: pathlib.Path, constraints: bool = True):
    venv_bin = tmp_path / 'venv' / 'bin'
    venv_bin.mkdir(parents=True)
    (venv_bin / 'pip').write_text(_FAKE_PIP)
    (venv_bin / 'pip').chmod(0o755)
    uc = tmp_path / 'upper-constraints.txt'
    if constraints:
        uc.write_text('oslo.config===9.6.0\n')
    env = dict(os.environ, GUEST_VENV=str(tmp_path / 'venv'),
               GUEST_CONF_DIR=str(tmp_path / 'conf.d'),
               GUEST_USERNAME=subprocess.run(
                   ['id', '-un'], capture_output=True, text=True,
                   check=True).stdout.strip(),
               TROVE_K2HDKC_SOURCE=str(REPO_ROOT),
               TROVE_K2HDKC_CONSTRAINTS=str(uc),
               PIP_LOG=str(tmp_path / 'pip.log'))
    res = subprocess.run(['bash', str(SCRIPT)], env=env, capture_output=True,
                         text=True, check=False)
    assert res.returncode == 0, res.stderr
    return [json.loads(line) for line in
            (tmp_path / 'pip.log').read_text().splitlines()]


def test_installs_the_plugin_into_the_guest_agent_venv(tmp_path):
    calls = run_element(tmp_path)
    assert calls == [['install', '-c', str(tmp_path / 'upper-constraints.txt'),
                      str(REPO_ROOT)]]


def test_without_constraints_file_installs_unconstrained(tmp_path):
    assert run_element(tmp_path, constraints=False) == [
        ['install', str(REPO_ROOT)]]


def test_guest_config_dir_registers_the_k2hdkc_group(tmp_path):
    """trove-guestagent runs with --config-dir=/etc/trove/conf.d."""
    run_element(tmp_path)
    conf_dir = tmp_path / 'conf.d'
    assert [p.name for p in conf_dir.iterdir()] == ['00-trove-k2hdkc.conf']
    conf = cfg.ConfigOpts()
    conf(args=['--config-dir', str(conf_dir)], project='trove',
         default_config_files=[], default_config_dirs=[])
    assert conf.k2hdkc.node_runtime == 'docker'


def test_element_runs_after_guest_agent_and_fetches_this_source():
    deps = (ELEMENT / 'element-deps').read_text().split()
    assert 'guest-agent' in deps and 'source-repositories' in deps
    # guest-agent makes the virtualenv in install.d/31.
    assert SCRIPT.name > '31'
    name, kind, dest, *_ = (ELEMENT / 'source-repository-trove-k2hdkc'
                            ).read_text().split()
    assert (name, kind, dest) == ('trove-k2hdkc', 'git', '/opt/trove-k2hdkc')
    # devstack/plugin.sh points DIB_REPOLOCATION_<name> at its checkout.
    assert 'DIB_REPOLOCATION_trove_k2hdkc=' in (
        REPO_ROOT / 'devstack' / 'plugin.sh').read_text()
    assert 'SOURCE=${TROVE_K2HDKC_SOURCE:-%s}' % dest in SCRIPT.read_text()
