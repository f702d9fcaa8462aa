"""Run the stock ``openstack`` CLI against a rig, the way a user would."""

from __future__ import annotations

import json
import pathlib
import subprocess
from typing import Any


def executable(info: dict[str, Any]) -> str:
    """The ``openstack`` installed next to the rig's Python (a tox env's
    bin dir is not on the user's PATH)."""
    return str(pathlib.Path(info['python']).parent / 'openstack')


def openstack(info: dict[str, Any], *args: str, parse: bool = True,
              timeout: float = 120, as_other_admin: bool = False) -> Any:
    """``openstack <args> [-f json]`` with the rig's admin_token auth;
    ``as_other_admin``: as the admin of another project (its own token
    and its own project's endpoint)."""
    token, url = info['token'], info['api_url']
    if as_other_admin:
        token = info['admin_token']
        url = url.rsplit('/', 1)[0] + '/' + info['admin_project_id']
    cmd = [executable(info), '--os-auth-type', 'admin_token', '--os-token',
           token, '--os-endpoint', url] + list(args)
    if parse:
        cmd += ['-f', 'json']
    res = subprocess.run(cmd, capture_output=True, text=True,
                         timeout=timeout)
    if res.returncode != 0:
        raise RuntimeError('openstack %s failed (%d): %s'
                           % (' '.join(args), res.returncode,
                              res.stderr[-2000:]))
    if not parse:
        return res.stdout
    return json.loads(res.stdout) if res.stdout.strip() else None
