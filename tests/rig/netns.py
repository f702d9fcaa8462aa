"""Network plumbing of the rig: one bridge, one namespace per "VM".

Every VM gets its own network namespace (chmpx binds ADDR_ANY on fixed
ports, so nodes need separate stacks) joined to a host bridge by a veth
pair. The bridge's address is the guests' way back to the host (RabbitMQ
relay). Everything carries the rig prefix so ``down`` and the leak check
can find it.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess

DEFAULT_NAME = 'k2rig'
# ``ip netns exec`` bind-mounts /etc/netns/<ns>/* over /etc. The host's
# nameserver is unreachable from a namespace, so every reverse lookup
# (chmpx names its peers with gethostbyaddr) would hang 10 s; a
# loopback nameserver makes it fail at once, as a rig with no DNS should.
NETNS_ETC = pathlib.Path('/etc/netns')
RESOLV_CONF = 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n'


def bridge_name(rig: str) -> str:
    return rig + 'br0'


def _ip(*args: str, check: bool = True,
        ns: str | None = None) -> subprocess.CompletedProcess:
    cmd = ['ip'] + (['-n', ns] if ns else []) + list(args)
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def link_exists(name: str) -> bool:
    return _ip('link', 'show', name, check=False).returncode == 0


def ensure_bridge(rig: str, host_cidr: str) -> None:
    """Create the rig bridge with the host address (idempotent)."""
    bridge = bridge_name(rig)
    if not link_exists(bridge):
        _ip('link', 'add', bridge, 'type', 'bridge')
    addrs = _ip('-o', 'addr', 'show', 'dev', bridge).stdout
    if host_cidr.split('/')[0] + '/' not in addrs:
        _ip('addr', 'add', host_cidr, 'dev', bridge)
    _ip('link', 'set', bridge, 'up')


def delete_bridge(rig: str) -> None:
    bridge = bridge_name(rig)
    if link_exists(bridge):
        _ip('link', 'del', bridge, check=False)


def list_namespaces(rig: str) -> list[str]:
    """Names of the rig's network namespaces currently present."""
    out = subprocess.run(['ip', 'netns', 'list'], capture_output=True,
                         text=True, check=False).stdout
    names = [line.split()[0] for line in out.splitlines() if line.strip()]
    return [n for n in names if n.startswith(rig + '-')]


def ns_name(rig: str, key: str) -> str:
    return '%s-%s' % (rig, key)


def host_veth(rig: str, key: str) -> str:
    return (rig + 'v' + key)[:15]


def create_vm_net(rig: str, key: str, cidr: str, gateway: str) -> str:
    """Create namespace + veth for VM ``key``; return the namespace name."""
    ns = ns_name(rig, key)
    veth = host_veth(rig, key)
    peer = (rig + 'p' + key)[:15]
    etc = NETNS_ETC / ns
    etc.mkdir(parents=True, exist_ok=True)
    (etc / 'resolv.conf').write_text(RESOLV_CONF)
    subprocess.run(['ip', 'netns', 'add', ns], check=True,
                   capture_output=True)
    _ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', peer)
    _ip('link', 'set', peer, 'netns', ns)
    _ip('link', 'set', veth, 'master', bridge_name(rig))
    _ip('link', 'set', veth, 'up')
    _ip('link', 'set', 'lo', 'up', ns=ns)
    _ip('link', 'set', peer, 'name', 'eth0', ns=ns)
    _ip('addr', 'add', cidr, 'dev', 'eth0', ns=ns)
    _ip('link', 'set', 'eth0', 'up', ns=ns)
    _ip('route', 'add', 'default', 'via', gateway, ns=ns, check=False)
    return ns


def ns_pids(ns: str) -> list[int]:
    out = subprocess.run(['ip', 'netns', 'pids', ns], capture_output=True,
                         text=True, check=False).stdout
    return [int(p) for p in out.split() if p.isdigit()]


def delete_vm_net(rig: str, key: str) -> None:
    """Remove VM ``key``'s veth and namespace (idempotent)."""
    veth = host_veth(rig, key)
    if link_exists(veth):
        _ip('link', 'del', veth, check=False)
    ns = ns_name(rig, key)
    if ns in list_namespaces(rig):
        subprocess.run(['ip', 'netns', 'del', ns], check=False,
                       capture_output=True)
    shutil.rmtree(NETNS_ETC / ns, ignore_errors=True)
