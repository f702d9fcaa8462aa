"""Run the stock ``openstack`` CLI against a rig, the way a user would."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
from typing import Any

from tests.rig import keystone


def executable(info: dict[str, Any]) -> str:
    """The ``openstack`` installed next to the rig's Python (a tox env's
    bin dir is not on the user's PATH)."""
    return str(pathlib.Path(info['python']).parent / 'openstack')


def openstack(info: dict[str, Any], *args: str, parse: bool = True,
              timeout: float = 120, as_other_admin: bool = False,
              who: str | None = None) -> Any:
    """``openstack <args> [-f json]`` as the rig user: with a Keystone,
    a password login and Trove's endpoint from the catalog; else the
    rig's admin_token auth. ``as_other_admin``: as the admin of another
    project (its own project's endpoint); ``who``: another user of the
    rig's Keystone (``keystone.users`` key)."""
    env = dict(os.environ)
    if info.get('auth') == 'keystone':
        auth = []
        env.update(keystone.cli_env(
            info, who or ('admin' if as_other_admin else 'a')))
    else:
        if who is not None:
            raise ValueError('users other than the rig user need '
                             'auth=keystone')
        token, url = info['token'], info['api_url']
        if as_other_admin:
            token = info['admin_token']
            url = url.rsplit('/', 1)[0] + '/' + info['admin_project_id']
        auth = ['--os-auth-type', 'admin_token', '--os-token', token,
                '--os-endpoint', url]
    cmd = [executable(info)] + auth + list(args)
    if parse:
        cmd += ['-f', 'json']
    res = subprocess.run(cmd, capture_output=True, text=True,
                         timeout=timeout, env=env)
    if res.returncode != 0:
        raise RuntimeError('openstack %s failed (%d): %s'
                           % (' '.join(args), res.returncode,
                              res.stderr[-2000:]))
    if not parse:
        return res.stdout
    return json.loads(res.stdout) if res.stdout.strip() else None
