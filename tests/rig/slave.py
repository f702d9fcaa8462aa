"""A K2HDKC client node (CHMPX slave) for a rig cluster, as a user runs it.

The slave is registered in the cluster's K2HR3 ``/slave`` role with the
rig token (the rig's Keystone token works for K2HR3), renders its INI
from K2HR3 with a slave role token exactly like a guest renders its own,
and runs ``chmpx`` in a namespace the rig bridge reaches (so no host port
is taken). Keys go in and out with ``k2hdkclinetool``, every write checked
(``dataset.write``).

A real slave chmpx keeps its shared memory in /tmp (``<GROUP>-<ctlport>
.chmpx`` / ``.k2h``, ``.fullock``, ``.k2h_*``; hundreds of MB), or in
/var/lib/antpickax if the host has it, and k2hdkclinetool must see the
same files: both run with private folders bind-mounted over those two
(privatefs.py), which ``stop`` removes.
"""

from __future__ import annotations

import ipaddress
import os
import pathlib
import shutil
import signal
import subprocess
import time
import types
from typing import Any

from tests.rig import config
from tests.rig import dataset
from tests.rig import netns
from tests.rig import privatefs
from tests.rig import procs
from tests.rig import vm
from trove_k2hdkc.chmpx import ini
from trove_k2hdkc.chmpx.ctlport import ControlPortClient
from trove_k2hdkc.cluster import registry
from trove_k2hdkc.exceptions import K2hdkcError
from trove_k2hdkc.k2hr3 import errors as k2hr3_errors
from trove_k2hdkc.k2hr3 import layout
from trove_k2hdkc.k2hr3 import models
from trove_k2hdkc.k2hr3.client import K2hr3Client
from trove_k2hdkc.k2hr3.transport import ClientSettings
from trove_k2hdkc.k2hr3.transport import Transport

SLAVE_CTLPORT = 8031
KEY = 'slave'
CUK = 'rig-slave-1'
HEALTHY = 0x21
#: chmpx 1.0.109 can crash on a SIGHUP less than ~1 s after its last
#: client left (doc/ring-procedures.md §9); the client is a linetool here.
DETACH_WAIT = 2.0
STOP_TIMEOUT = 10.0


def slave_ip(info: dict[str, Any]) -> str:
    """The last host address of the rig subnet (rig Nova counts up)."""
    net = ipaddress.ip_network(info['network']['cidr'])
    return str(net.broadcast_address - 1)


def _client(info: dict[str, Any]) -> K2hr3Client:
    return K2hr3Client(Transport(ClientSettings(
        base_url=info['k2hr3_api_url'],
        allow_http=bool(config.allow_insecure_http(info)))))


def _user_token(client: K2hr3Client, info: dict[str, Any]) -> Any:
    # The same tenant resolution the taskmanager uses.
    ctx = types.SimpleNamespace(project_name=info.get('project_name'),
                                project_id=info['project_id'])
    return registry.scoped_user_token(client, info['token'], ctx)


class RigSlave:
    """``register`` (as soon as the cluster's roles exist), ``start``,
    ``run`` linetool scripts, ``stop``. Use as a context manager."""

    def __init__(self, info: dict[str, Any], cluster_id: str,
                 workdir: pathlib.Path) -> None:
        self.info = info
        self.cluster_id = cluster_id
        self.dir = workdir
        self.ip = slave_ip(info)
        self.ns: str | None = None
        self.pid: int | None = None
        self.ini_path = workdir / 'slave.ini'
        self.tmp = workdir / 'tmp'
        self.antpickax = workdir / 'antpickax'
        self._client_left = 0.0

    def __enter__(self) -> RigSlave:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _names(self, client: K2hr3Client, user: Any) -> layout.ClusterNames:
        return layout.ClusterNames(user.tenant, self.cluster_id)

    def register(self, timeout: float = 60) -> None:
        """Add this host to ``k2hdkc-<id>/slave`` once the taskmanager has
        provisioned it (call right after ``cluster create`` so the
        servers' first INI already lists the slave)."""
        with _client(self.info) as client:
            user = _user_token(client, self.info)
            role = self._names(client, user).child(layout.SLAVE)

            def provisioned() -> bool:
                # Role tokens are the last provisioning step.
                try:
                    return bool(client.list_role_tokens(user, role))
                except k2hr3_errors.K2hr3HTTPError as exc:
                    if exc.status == 404:
                        return False
                    raise
            procs.wait_until(provisioned, timeout, 'K2HR3 role ' + role,
                             interval=0.2)
            client.add_role_host(user, role, models.RoleHost(
                host=self.ip, port=0, cuk=CUK, extra=layout.MEMBER_EXTRA,
                tag=CUK))

    def render(self) -> str:
        """The slave INI as K2HR3 renders it for the slave role."""
        with _client(self.info) as client:
            user = _user_token(client, self.info)
            names = self._names(client, user)
            token = client.issue_role_token(user, names.child(layout.SLAVE),
                                            expire=3600)
            text = client.read_resource_by_role(
                token, names.resource_yrn(layout.SLAVE))
        text = ini.fill_self_instance_id(text, CUK)
        ini.check_ini(text, ini.NodeIdentity(
            mode='SLAVE', cuk=CUK, custom_id_seed=CUK,
            ctlport=SLAVE_CTLPORT, cli_ctlport=True))
        return text

    def _in_node(self, argv: list[str]) -> list[str]:
        """``argv`` in the slave's network namespace with its private
        /tmp (the checkout and venv stay visible if they live in /tmp)."""
        stage, restore = vm._reexpose_under_tmp(self.dir, self.info)
        own_state = privatefs.bind_own_state(self.antpickax)
        script = '\n'.join(['set -e', own_state, *stage,
                            'mount --bind "$0" /tmp',
                            *restore, 'exec "$@"'])
        return ['ip', 'netns', 'exec', self.ns, 'unshare', '-m',
                '--propagation', 'private', '/bin/sh', '-c', script,
                str(self.tmp), *argv]

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(exist_ok=True)
        self.tmp.chmod(0o1777)
        self.antpickax.mkdir(exist_ok=True)
        self.ini_path.write_text(self.render())
        net = self.info['network']
        self.ns = netns.create_vm_net(
            self.info['name'], KEY, '%s/%s' % (self.ip, net['prefixlen']),
            net['gateway'])
        # A previous slave's veth had another MAC: without this the host
        # keeps sending to it until its neighbour entry expires.
        subprocess.run(['ip', 'neigh', 'flush', 'to', self.ip],
                       capture_output=True, check=False)
        self.pid = procs.spawn(
            self._in_node(['chmpx', '-conf', str(self.ini_path), '-ctlport',
                           str(SLAVE_CTLPORT), '-d', 'err']),
            self.dir / 'chmpx.log', self.dir / 'chmpx.pid', env=self._env())

    def refresh(self) -> None:
        """Re-render after a grow/shrink and rename it over the live INI
        (chmpx reloads a changed INI; a rename is never seen half
        written)."""
        tmp = self.ini_path.with_suffix('.new')
        tmp.write_text(self.render())
        os.replace(tmp, self.ini_path)

    def wait_ring(self, servers: list[str], timeout: float = 60) -> None:
        """Until the slave's ALLSTATUS lists exactly ``servers`` (IPs),
        each SERVICE IN and UP (0x21): only then do requests route."""
        client = ControlPortClient(self.ip, SLAVE_CTLPORT)
        seen: list[object] = ['no answer yet']

        def ready() -> bool:
            try:
                ring = client.all_status()
            except K2hdkcError as exc:
                seen[0] = 'no answer (%s)' % exc
                return False
            seen[0] = sorted('%s 0x%x' % (s.server_name, s.status.code)
                             for s in ring.servers)
            return (sorted(s.server_name for s in ring.servers)
                    == sorted(servers)
                    and {s.status.code for s in ring.servers} == {HEALTHY})
        try:
            procs.wait_until(ready, timeout, 'slave %s to see %s healthy'
                             % (self.ip, sorted(servers)), interval=0.5)
        except RuntimeError as exc:
            # What the slave saw last is the evidence of a failed wait.
            raise RuntimeError('%s; it last saw %s' % (exc, seen[0])) from None

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env['PATH'] = self.info['guest_path']
        env['PYTHONPATH'] = self.info['repo_root']
        # The stand-ins' files go to the private /tmp, as the real ones.
        env.pop('K2HDKC_STANDIN_SHMDIR', None)
        return env

    def linetool(self, commands: list[str],
                 timeout: float = 300) -> tuple[str, str]:
        """``k2hdkclinetool -run`` of ``commands``; (stdout, stderr)."""
        script = self.dir / ('cmds-%d.txt' % time.monotonic_ns())
        script.write_text('\n'.join(list(commands) + ['quit']) + '\n')
        try:
            res = subprocess.run(
                self._in_node(['k2hdkclinetool', '-conf',
                               str(self.ini_path), '-ctlport',
                               str(SLAVE_CTLPORT), '-run', str(script)]),
                env=self._env(), capture_output=True, text=True,
                timeout=timeout, stdin=subprocess.DEVNULL, check=False)
        finally:
            self._client_left = time.monotonic()
            script.unlink()
        return res.stdout, res.stderr

    def run(self, commands: list[str]) -> int:
        """Run ``set``/``rm`` commands, each checked and retried, in
        batches (``dataset.write_batched``); returns the retries needed."""
        return dataset.write_batched(self.linetool, commands)

    def values(self, keys: list[str]) -> dataset.Reads:
        """What ``print <key>`` returns for each key, read in batches."""
        return dataset.reader(self.linetool)(keys)

    def _stop_chmpx(self) -> None:
        """SIGHUP (chmpx ignores SIGTERM), no sooner than DETACH_WAIT
        after the last linetool left; a SIGSEGV then still means
        stopped. What ignores SIGHUP is killed with its group."""
        pid = self.pid
        time.sleep(max(0.0, self._client_left + DETACH_WAIT
                       - time.monotonic()))
        try:
            os.kill(pid, signal.SIGHUP)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + STOP_TIMEOUT
        while procs.alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        try:
            _, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            status = 0
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSEGV:
            print('slave chmpx crashed (SIGSEGV) while stopping; it is '
                  'stopped', flush=True)
        procs.stop_pidfile(self.dir / 'chmpx.pid')

    def stop(self) -> None:
        if self.pid is not None:
            self._stop_chmpx()
            self.pid = None
        if self.ns is not None:
            procs.kill_pids(netns.ns_pids(self.ns))
            netns.delete_vm_net(self.info['name'], KEY)
            self.ns = None
        # Its chmpx log goes with the rig's logs (kept after a failure).
        log = self.dir / 'chmpx.log'
        if log.is_file():
            logs = self.dir.parent / 'logs'
            logs.mkdir(exist_ok=True)
            shutil.copyfile(log, logs / (self.dir.name + '-chmpx.log'))
        # The shared memory of the slave: chmpx leaves it behind.
        shutil.rmtree(self.tmp, ignore_errors=True)
        shutil.rmtree(self.antpickax, ignore_errors=True)
