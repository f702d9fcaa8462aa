"""The rig's shared cloud state: one JSON file under a file lock.

trove-api, trove-taskmanager, trove-conductor, trove-manage, the tests and
``python -m tests.rig down`` are separate processes that must agree on which
"VMs", ports and volumes exist; a locked JSON file in the rig state dir is the
smallest shared store that survives a crash of any of them.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import fcntl
import json
import os
import pathlib
from typing import Any

ENV_STATE_DIR = 'K2HDKC_RIG_STATE'
CLOUD_FILE = 'cloud.json'
RIG_FILE = 'rig.json'


def state_dir() -> pathlib.Path:
    """The state dir of the running rig (set by the launcher in the env)."""
    value = os.environ.get(ENV_STATE_DIR)
    if not value:
        raise RuntimeError('%s is not set: not running under the rig'
                           % ENV_STATE_DIR)
    return pathlib.Path(value)


def empty_cloud() -> dict[str, Any]:
    return {'servers': {}, 'ports': {}, 'security_groups': {},
            'volumes': {}, 'server_groups': {}, 'ips': {}}


@contextlib.contextmanager
def locked_cloud(root: pathlib.Path | None = None
                 ) -> Iterator[dict[str, Any]]:
    """Yield the cloud dict under an exclusive lock; saved on clean exit."""
    root = root or state_dir()
    path = root / CLOUD_FILE
    with open(root / (CLOUD_FILE + '.lock'), 'a+') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            data = (json.loads(path.read_text()) if path.exists()
                    else empty_cloud())
            yield data
            tmp = path.with_suffix('.tmp')
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
            os.replace(tmp, path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def read_cloud(root: pathlib.Path | None = None) -> dict[str, Any]:
    with locked_cloud(root) as data:
        return json.loads(json.dumps(data))


def rig_info(root: pathlib.Path | None = None) -> dict[str, Any]:
    """Static facts written by the launcher (flavors, network, image...)."""
    root = root or state_dir()
    return json.loads((root / RIG_FILE).read_text())
