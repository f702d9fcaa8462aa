"""chmpx + k2hdkc in Trove's ``database`` container (Trove 26 guest images).

The container is the image built from ``guestagent/`` (``[k2hdkc]
docker_image``): its entrypoint ``guestagent/k2hdkc-node`` starts chmpx,
waits for its control port, starts k2hdkc, and on SIGHUP -- the stop
signal, because chmpx ignores SIGTERM -- stops k2hdkc first, then chmpx
once chmpx reports ``[Suspend]`` (chmpx 1.0.109 can crash on a SIGHUP
right after its last client detached, doc/ring-procedures.md §9). A crash
of either program ends the container with 1 and the restart policy starts
it again. The image's HEALTHCHECK asks the control port for SELFSTATUS.
This module only passes the node's settings as the environment the
entrypoint reads (``node_environment``) and drives the container: every
chmpx stop (stop, upgrade, restart_chmpx) is a container stop, so all take
the safe path. The Docker client is created lazily through
``client_factory`` so nothing touches Docker until the node is managed.
"""

from __future__ import annotations

from collections.abc import Callable
import shlex
from typing import Any

from oslo_log import log as logging
from trove.guestagent.utils import docker as docker_util

from trove_k2hdkc.guest import errors
from trove_k2hdkc.guest.runtime.base import CHMPX
from trove_k2hdkc.guest.runtime.base import K2HDKC

LOG = logging.getLogger(__name__)

CONTAINER = 'database'
RUN_DIR = '/var/run/antpickax'
#: While this file exists the entrypoint does not (re)start k2hdkc.
HOLD_FILE = RUN_DIR + '/k2hdkc.hold'
_KILLED = 'k2hdkc-needed-sigkill'


def node_environment(ini_path: str, ctlport: int,
                     detach_wait: float = 2.0) -> dict[str, str]:
    """What ``guestagent/k2hdkc-node`` reads (its header documents it)."""
    return {'K2HDKC_INI': ini_path, 'K2HDKC_CTLPORT': str(ctlport),
            'K2HDKC_RUN_DIR': RUN_DIR,
            'K2HDKC_DETACH_WAIT_MS': str(max(0, round(detach_wait * 1000)))}


def repository(image: str) -> str:
    """``image`` without its tag or digest (a registry port stays)."""
    image = image.split('@', 1)[0]
    head, _, last = image.rpartition('/')
    if ':' in last:
        last = last.split(':', 1)[0]
    return '%s/%s' % (head, last) if head else last


class DockerRuntime:
    """:param client_factory: returns a docker SDK client (called once,
    on first use).
    :param image: the repository (a tag in it is replaced by ``version``).
    :param version: the datastore version, the image tag (Trove's own
        docker guests do the same); without it ``image`` is used as is.
    """

    def __init__(self, client_factory: Callable[[], Any], *, image: str,
                 ini_path: str, conf_dir: str, data_dir: str, ctlport: int,
                 user: str = '', stop_timeout: int = 30,
                 version: str | None = None,
                 k2hdkc_stop_timeout: float = 10.0,
                 detach_wait: float = 2.0) -> None:
        self._factory = client_factory
        self._client = None
        self.image = image
        self.version = version
        self.k2hdkc_stop_timeout = k2hdkc_stop_timeout
        self.detach_wait = detach_wait
        self.ini_path = ini_path
        self.conf_dir = conf_dir
        self.data_dir = data_dir
        self.ctlport = ctlport
        self.user = user
        self.stop_timeout = stop_timeout

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._factory()
        return self._client

    def _container(self) -> Any | None:
        import docker
        try:
            return self.client.containers.get(CONTAINER)
        except docker.errors.NotFound:
            return None

    def run_kwargs(self) -> dict[str, Any]:
        """What ``containers.run`` gets (Trove's start_container plus the
        stop signal, which that helper cannot pass; the image also says
        SIGHUP). Entrypoint and HEALTHCHECK are the image's own."""
        volumes = {self.conf_dir: {'bind': self.conf_dir, 'mode': 'rw'},
                   self.data_dir: {'bind': self.data_dir, 'mode': 'rw'}}
        return dict(name=CONTAINER, detach=True,
                    restart_policy={'Name': 'unless-stopped'},
                    network_mode='host', ipc_mode='host', volumes=volumes,
                    user=self.user, stop_signal='SIGHUP',
                    environment=node_environment(
                        self.ini_path, self.ctlport, self.detach_wait))

    def image_ref(self) -> str:
        if not self.version:
            return self.image
        return '%s:%s' % (repository(self.image), self.version)

    def start(self) -> None:
        container = self._container()
        if container is not None:
            if container.status != 'running':
                LOG.info('Starting existing container %s.', CONTAINER)
                container.start()
            self._exec('rm -f %s' % shlex.quote(HOLD_FILE))
            return
        image = self.image_ref()
        LOG.info('Creating container %s from %s.', CONTAINER, image)
        self.client.containers.run(image, **self.run_kwargs())

    def upgrade(self, version: str) -> None:
        """Recreate the container from the image tagged ``version`` (the
        INI and data are bind mounts and stay)."""
        self.version = version
        container = self._container()
        if container is not None:
            LOG.info('Removing container %s to run image %s.', CONTAINER,
                     self.image_ref())
            container.stop(timeout=self.stop_timeout)
            container.remove()
        self.start()

    def resume(self) -> None:
        """The container's restart policy already does it (and touching
        Docker at agent start is avoided)."""

    def stop(self) -> None:
        container = self._container()
        if container is not None:
            container.stop(timeout=self.stop_timeout)

    def _running(self) -> Any:
        """The container, which must be running."""
        container = self._container()
        if container is None or container.status != 'running':
            raise errors.RuntimeStartError('container %s is not running'
                                           % CONTAINER)
        return container

    def _exec(self, command: str) -> tuple[int, str]:
        code, out = self._running().exec_run(['/bin/sh', '-c', command])
        return code, (out or b'').decode(errors='replace')

    def stop_k2hdkc(self) -> bool:
        """SIGHUP, then SIGKILL after ``k2hdkc_stop_timeout``
        (doc/ring-procedures.md §8); False when SIGKILL was needed."""
        pid = '%s/k2hdkc.pid' % RUN_DIR
        ticks = max(1, int(self.k2hdkc_stop_timeout / 0.2))
        code, out = self._exec(
            'touch %s; p=$(cat %s 2>/dev/null) || exit 0; kill -HUP $p; '
            't=0; while kill -0 $p 2>/dev/null; do '
            '[ $t -eq %d ] && echo %s && kill -KILL $p 2>/dev/null; '
            't=$((t+1)); sleep 0.2; done'
            % (shlex.quote(HOLD_FILE), shlex.quote(pid), ticks, _KILLED))
        if code != 0:
            raise errors.RuntimeStopError('could not stop k2hdkc: %s' % out)
        return _KILLED not in out

    def restart_chmpx(self) -> None:
        """Restart the container with k2hdkc held: its entrypoint starts
        chmpx and waits while the hold file exists (it survives a
        restart, it is in the container's own file system)."""
        self._exec('touch %s' % shlex.quote(HOLD_FILE))
        container = self._running()
        LOG.warning('Restarting container %s to restart chmpx.', CONTAINER)
        container.restart(timeout=self.stop_timeout)

    def start_k2hdkc(self) -> None:
        self._exec('rm -f %s' % shlex.quote(HOLD_FILE))

    def restart_k2hdkc(self) -> None:
        self.stop_k2hdkc()
        self.start_k2hdkc()

    def running(self) -> dict[str, bool]:
        container = self._container()
        if container is None or container.status != 'running':
            return {CHMPX: False, K2HDKC: False}
        out = {}
        for name in (CHMPX, K2HDKC):
            code, _ = self._exec('kill -0 $(cat %s/%s.pid)' % (RUN_DIR, name))
            out[name] = code == 0
        return out

    def is_running(self) -> bool:
        return all(self.running().values())

    def wanted(self) -> bool:
        container = self._container()
        return container is not None and container.status != 'exited'

    def poke_shm(self, path: str) -> None:
        self._exec(': < %s' % shlex.quote(path))

    def close(self) -> None:
        pass

    def logs(self, tail: int = 50) -> list[str]:
        return docker_util.get_container_logs(self.client, CONTAINER, tail)
