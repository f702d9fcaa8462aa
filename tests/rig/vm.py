"""Boot and destroy one rig "VM": a namespace running Trove's guest agent.

A VM is a network namespace (own address on the rig bridge) plus a private
mount and IPC namespace in which per-VM folders are bind-mounted over the
paths the guest agent and the data plane assume are theirs alone: /tmp
and /var/lib/antpickax (chmpx/k2hdkc shared memory, privatefs.py),
/opt/trove-guestagent (prepare markers), and
the rig's guest data and conf folders (``[k2hdkc] mount_point`` /
``conf_dir`` in the rig's guest config). Files Trove injects through
cloud-config land in a per-VM root, and the agent reads them with
``--config-dir=<root>/etc/trove/conf.d``.

A real VM keeps one mount and IPC world across an agent restart: the
agent started again after ``kill_agent`` joins the namespaces of the
chmpx/k2hdkc that survived (their POSIX message queues and shared memory
live there); new namespaces are made only when nothing of the VM runs.
"""

from __future__ import annotations

import base64
import os
import pathlib
import shlex
import shutil
import signal
from typing import Any

import yaml

from tests.rig import netns
from tests.rig import privatefs
from tests.rig import procs
from tests.standins.dataplane import faults

GUESTAGENT_DIR = '/opt/trove-guestagent'
# chmpx.log / k2hdkc.log of the process runtime live here.
GUEST_LOG_DIR = '/var/log/trove'
BOOT_SCRIPT = 'boot.sh'
# the agent alone, run in the namespaces of a surviving VM process
AGENT_SCRIPT = 'agent.sh'


def files_from_userdata(userdata: str | bytes | None) -> dict[str, bytes]:
    """Extract cloud-config ``write_files`` the way cloud-init would."""
    if not userdata:
        return {}
    if isinstance(userdata, bytes):
        userdata = userdata.decode()
    doc = yaml.safe_load(userdata) or {}
    files = {}
    for entry in doc.get('write_files', []) if isinstance(doc, dict) else []:
        content = entry.get('content', '')
        if entry.get('encoding') in ('b64', 'base64'):
            files[entry['path']] = base64.b64decode(content)
        else:
            files[entry['path']] = content.encode()
    return files


def vm_root(state: pathlib.Path, key: str) -> pathlib.Path:
    return state / 'vms' / key


def write_files(root: pathlib.Path, files: dict[str, bytes]) -> None:
    for path, content in files.items():
        target = root / path.lstrip('/')
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        target.chmod(0o644)


def _mount_script(root: pathlib.Path, info: dict[str, Any],
                  data_dir: pathlib.Path) -> str:
    # /tmp goes last: nothing after it may need the host's /tmp.
    binds = [(root / 'guestagent', GUESTAGENT_DIR),
             (root / 'log', GUEST_LOG_DIR),
             (data_dir, info['guest_paths']['mount_point']),
             (root / 'conf', info['guest_paths']['conf_dir']),
             (root / 'tmp', '/tmp')]
    stage, restore = _reexpose_under_tmp(root, info)
    lines = ['set -e', privatefs.bind_own_state(root / 'antpickax')]
    for src, dst in binds:
        if dst == '/tmp':
            lines.extend(stage)
        lines.append('mount --bind %s %s' % (shlex.quote(str(src)),
                                             shlex.quote(str(dst))))
    lines.extend(restore)
    lines.append(_agent_line(root, info))
    return '\n'.join(lines)


def _agent_line(root: pathlib.Path, info: dict[str, Any]) -> str:
    agent = [info['python'], '-m', 'tests.rig.guest_wrapper',
             '--config-dir=%s' % (root / 'etc/trove/conf.d')]
    return 'exec ' + ' '.join(shlex.quote(a) for a in agent)


def _agent_script(root: pathlib.Path, info: dict[str, Any]) -> str:
    # entering a mount namespace resets the working directory
    return 'cd %s\n%s' % (shlex.quote(info['repo_root']),
                          _agent_line(root, info))


def _reexpose_under_tmp(root: pathlib.Path, info: dict[str, Any]
                        ) -> tuple[list[str], list[str]]:
    """Shell lines that keep the checkout and the venv visible in the VM.

    The private /tmp hides whatever the host keeps below /tmp, and a CI
    clone (with its tox venv) may live there. Such folders are bound to a
    staging place before /tmp is covered, then bound back to their paths.
    Returns the staging lines (before the /tmp bind) and the restoring
    lines (after it).
    """
    wanted = {pathlib.Path(info['repo_root']).resolve(),
              pathlib.Path(info['python']).parent.parent}
    under_tmp = sorted(p for p in wanted if p.is_relative_to('/tmp'))
    before, after = [], []
    for n, path in enumerate(under_tmp):
        stage = root / 'keep' / str(n)
        stage.mkdir(parents=True, exist_ok=True)
        quoted = shlex.quote(str(path))
        before.append('mount --bind %s %s' % (quoted,
                                              shlex.quote(str(stage))))
        after.append('mkdir -p %s && mount --bind %s %s'
                     % (quoted, shlex.quote(str(stage)), quoted))
    return before, after


def guest_env(info: dict[str, Any]) -> dict[str, str]:
    env = {'PATH': info['guest_path'], 'PYTHONPATH': info['repo_root'],
           'HOME': '/root', 'LANG': 'C.UTF-8',
           # one faults file for every VM's stand-ins (faults.py)
           faults.ENV: str(pathlib.Path(info['state_dir'])
                           / faults.FILE_NAME)}
    return env


def boot(state: pathlib.Path, info: dict[str, Any], key: str,
         cidr: str, files: dict[str, bytes],
         data_dir: pathlib.Path | None) -> int:
    """Create VM ``key`` and start its guest agent; return the agent pid."""
    root = vm_root(state, key)
    for sub in ('tmp', 'antpickax', 'guestagent', 'data', 'conf', 'log',
                'etc/trove/conf.d'):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / 'tmp').chmod(0o1777)
    write_files(root, files)
    netns.create_vm_net(info['name'], key, cidr, info['network']['gateway'])
    (root / BOOT_SCRIPT).write_text(
        _mount_script(root, info, data_dir or root / 'data'))
    (root / AGENT_SCRIPT).write_text(_agent_script(root, info))
    return start_agent(state, info, key)


def start_agent(state: pathlib.Path, info: dict[str, Any], key: str) -> int:
    """Start the guest agent of VM ``key`` (at boot, or again after
    ``kill_agent``: the VM "reboots" with its disk and identity). If
    some process of the VM survived (chmpx, k2hdkc), the agent joins its
    mount and IPC namespaces, so a k2hdkc it restarts reaches chmpx's
    message queues and shared memory; otherwise the VM's namespaces are
    made afresh and its folders bound."""
    root = vm_root(state, key)
    ns = netns.ns_name(info['name'], key)
    survivor = surviving_process(ns)
    if survivor is None:
        inner = ['unshare', '-m', '-i', '--propagation', 'private',
                 '/bin/sh', str(root / BOOT_SCRIPT)]
    else:
        inner = ['nsenter', '-t', str(survivor), '-m', '-i', '/bin/sh',
                 str(root / AGENT_SCRIPT)]
    cmd = ['ip', 'netns', 'exec', ns, *inner]
    return procs.spawn(cmd, root / 'guest-agent.log', root / 'agent.pid',
                       env=guest_env(info), cwd=info['repo_root'])


def surviving_process(ns: str) -> int | None:
    """A live process of network namespace ``ns`` that runs in a mount
    and IPC namespace of its own (a VM's, not the host's), or None."""
    host = [_ns_id(os.getpid(), kind) for kind in ('mnt', 'ipc')]
    for pid in netns.ns_pids(ns):
        procs.reap(pid)
        own = [_ns_id(pid, kind) for kind in ('mnt', 'ipc')]
        if (procs.alive(pid) and None not in own
                and all(a != b for a, b in zip(own, host, strict=True))):
            return pid
    return None


def _ns_id(pid: int, kind: str) -> str | None:
    try:
        return os.readlink('/proc/%d/ns/%s' % (pid, kind))
    except OSError:
        return None


def kill_agent(state: pathlib.Path, key: str) -> None:
    """SIGKILL the guest agent of VM ``key`` only: chmpx and k2hdkc run
    in sessions of their own and keep running."""
    pid = agent_pid(state, key)
    if pid is None:
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    procs.wait_until(lambda: not running(state, key), 10,
                     'agent of VM %s to die' % key)


def crash(state: pathlib.Path, rig: str, key: str) -> None:
    """SIGKILL everything running in VM ``key`` (agent, chmpx, k2hdkc),
    keeping its disk and network: a VM that died, not one deleted."""
    kill_agent(state, key)
    pids = netns.ns_pids(netns.ns_name(rig, key))
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    procs.kill_pids(pids)   # reaps them


def destroy(state: pathlib.Path, rig: str, key: str,
            remove_root: bool = True) -> None:
    """Stop every process of VM ``key``, drop its namespace (idempotent)."""
    root = vm_root(state, key)
    procs.stop_pidfile(root / 'agent.pid')
    ns = netns.ns_name(rig, key)
    if ns in netns.list_namespaces(rig):
        procs.kill_pids(netns.ns_pids(ns))
    netns.delete_vm_net(rig, key)
    if remove_root and root.exists():
        keep_logs(state, key)
        shutil.rmtree(root, ignore_errors=True)


def keep_logs(state: pathlib.Path, key: str) -> None:
    """Copy VM ``key``'s guest agent, chmpx and k2hdkc logs to
    ``<state>/logs/vm-<key>`` before its disk goes: a test's cluster is
    deleted at teardown, and a failed real-binary run is judged by them
    (the rig keeps ``logs`` when a test failed)."""
    root = vm_root(state, key)
    dest = state / 'logs' / ('vm-' + key)
    # The node's logs sit under the guest's log dir (/var/log/trove/k2hdkc).
    logs = [root / 'guest-agent.log'] + sorted((root / 'log').rglob('*.log'))
    for log in logs:
        if log.is_file():
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(log, dest / log.name)


def agent_pid(state: pathlib.Path, key: str) -> int | None:
    pidfile = vm_root(state, key) / 'agent.pid'
    try:
        return int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None


def running(state: pathlib.Path, key: str) -> bool:
    pid = agent_pid(state, key)
    if pid is not None:
        procs.reap(pid)
    return pid is not None and procs.alive(pid)


def known_vm_keys(state: pathlib.Path) -> list[str]:
    vms = state / 'vms'
    return sorted(os.listdir(vms)) if vms.is_dir() else []
