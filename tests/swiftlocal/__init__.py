"""A real OpenStack Swift (from PyPI) on loopback, for tests.

Why: backups must be proven against the object store Trove uses, with its
real segment, SLO and ETag behaviour, not a look-alike.  ``LocalSwift``
writes a one-replica ring and the configs of the proxy, account,
container and object servers into a private directory, starts the four
stock ``swift-*-server`` programs on free loopback ports and stops them.

The proxy has no Keystone: the ``token`` filter of this package accepts
the tokens it is given, each for its accounts (what Keystone's auth_token
+ keystoneauth would decide), and ``account_autocreate`` makes an account
on first use, so the stock swiftclient is used exactly as Trove's backup
image does, with a pre-authenticated URL and token. The local Trove rig
runs one with the proxy on its bridge address (``proxy_host``), where
the rig's guests reach it.
"""

from __future__ import annotations

import os
import pathlib
import pwd
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
ACCOUNT = 'AUTH_test'
TOKEN = 'swift-test-token'
SERVERS = ('account', 'container', 'object', 'proxy')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def server_program(name: str) -> str | None:
    """The ``swift-<name>-server`` next to this interpreter, or on PATH."""
    prog = 'swift-%s-server' % name
    here = pathlib.Path(sys.executable).parent / prog
    return str(here) if here.exists() else shutil.which(prog)


def missing() -> list[str]:
    """What this machine lacks to run Swift (empty when it can)."""
    lacks = []
    try:
        import pyeclib.ec_iface  # noqa: F401  (storage policies load it)
        import swift  # noqa: F401
        import swiftclient  # noqa: F401
    except ImportError as exc:
        lacks.append('python module %s (pip install -r '
                     'test-requirements.txt)' % exc.name)
    lacks += ['program %s' % ('swift-%s-server' % s) for s in SERVERS
              if server_program(s) is None]
    return lacks


def _write(path: pathlib.Path, text: str) -> None:
    path.write_text(text.lstrip())


class LocalSwift:
    """Four Swift servers in ``workdir``; ``url`` is the account URL."""

    def __init__(self, workdir: pathlib.Path, proxy_host: str = '127.0.0.1',
                 tokens: dict[str, str] | None = None,
                 ports: dict[str, int] | None = None,
                 keystone: dict[str, str] | None = None) -> None:
        """``tokens``: token -> the accounts it reaches ('|' separated,
        ``*`` for all); by default ``TOKEN`` for ``ACCOUNT``. ``ports``:
        server -> port (free ones by default). ``keystone``: instead of
        ``tokens``, Keystone decides, as in a deployment: the proxy runs
        keystonemiddleware ``auth_token`` with these options (its
        service user) and Swift's ``keystoneauth`` (a project's
        ``member`` or ``admin`` reaches ``AUTH_<project id>``, ``admin``
        every account)."""
        self.workdir = pathlib.Path(workdir)
        self.proxy_host = proxy_host
        self.ports = dict(ports or {name: free_port() for name in SERVERS})
        self.procs: dict[str, subprocess.Popen] = {}
        self.token = TOKEN
        self.tokens = dict(tokens or {TOKEN: ACCOUNT})
        self.keystone = dict(keystone) if keystone else None

    @property
    def url_prefix(self) -> str:
        """Account URLs are this plus the project id (Trove's
        ``swift_url``)."""
        return 'http://%s:%d/v1/AUTH_' % (self.proxy_host,
                                          self.ports['proxy'])

    @property
    def url(self) -> str:
        return self.url_prefix + ACCOUNT[len('AUTH_'):]

    @property
    def devices(self) -> pathlib.Path:
        return self.workdir / 'srv'

    def _rings(self) -> None:
        from swift.common.ring import RingBuilder
        for name in ('account', 'container', 'object'):
            builder = RingBuilder(6, 1, 1)  # 64 partitions, one replica
            builder.add_dev({'id': 0, 'region': 1, 'zone': 1, 'weight': 1,
                             'ip': '127.0.0.1', 'port': self.ports[name],
                             'device': 'd1'})
            builder.rebalance()
            builder.get_ring().save(
                str(self.workdir / ('%s.ring.gz' % name)))

    def _configs(self) -> None:
        user = pwd.getpwuid(os.getuid()).pw_name
        common = ('[DEFAULT]\nbind_ip = %s\nbind_port = %d\n'
                  'workers = 0\nuser = ' + user + '\nswift_dir = '
                  + str(self.workdir) + '\ndevices = ' + str(self.devices)
                  + '\nmount_check = false\ndisable_fallocate = true\n'
                  'log_name = %s\nlog_level = WARNING\n'
                  'log_facility = LOG_LOCAL0\nlog_address = /nonexistent\n')
        _write(self.workdir / 'swift.conf', """
[swift-hash]
swift_hash_path_suffix = trove-k2hdkc-tests
[storage-policy:0]
name = gold
default = yes
""")
        for name in ('account', 'container', 'object'):
            _write(self.workdir / ('%s-server.conf' % name),
                   (common % ('127.0.0.1', self.ports[name], name)) + """
[pipeline:main]
pipeline = %(n)s-server
[app:%(n)s-server]
use = egg:swift#%(n)s
""" % {'n': name})
        _write(self.workdir / 'proxy-server.conf',
               (common % (self.proxy_host, self.ports['proxy'], 'proxy'))
               + """
[pipeline:main]
pipeline = catch_errors proxy-logging %s slo dlo proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
%s
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
""" % self._auth())

    def _auth(self) -> tuple[str, str]:
        """(pipeline part, its filter sections)."""
        if self.keystone is None:
            return 'token', (
                '[filter:token]\n'
                'paste.filter_factory = tests.swiftlocal.token:filter_factory'
                '\ntokens = %s' % ' '.join('%s=%s' % kv
                                           for kv in self.tokens.items()))
        options = dict(self.keystone, delay_auth_decision='true')
        return 'authtoken keystoneauth', '\n'.join(
            ['[filter:authtoken]',
             'paste.filter_factory = '
             'keystonemiddleware.auth_token:filter_factory']
            + ['%s = %s' % kv for kv in options.items()]
            + ['[filter:keystoneauth]', 'use = egg:swift#keystoneauth',
               'operator_roles = admin, member',
               'reseller_admin_role = admin'])

    def start(self) -> LocalSwift:
        lacks = missing()
        if lacks:
            raise RuntimeError('cannot run Swift: ' + '; '.join(lacks))
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.devices / 'd1').mkdir(parents=True, exist_ok=True)
        self._rings()
        self._configs()
        for name in SERVERS:
            self.start_server(name)
        try:
            self._wait_ready()
        except Exception:
            self.stop()
            raise
        return self

    def start_server(self, name: str, wait: bool = False) -> None:
        """Start one server (again, after ``stop_server``)."""
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            filter(None, [str(REPO_ROOT), os.environ.get('PYTHONPATH')])))
        log = open(self.workdir / ('%s.log' % name), 'ab')  # noqa: SIM115
        with log:
            self.procs[name] = subprocess.Popen(
                [server_program(name),
                 str(self.workdir / ('%s-server.conf' % name))],
                stdout=log, stderr=subprocess.STDOUT, env=env,
                stdin=subprocess.DEVNULL, start_new_session=True)
        if wait:
            self._wait_ready()

    def write_pidfiles(self, folder: pathlib.Path) -> None:
        """``swift-<server>.pid`` per server (the rig stops what its
        pid files name, even after a crash of whoever started it)."""
        for name, proc in self.procs.items():
            (folder / ('swift-%s.pid' % name)).write_text('%d\n' % proc.pid)

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            dead = [n for n, p in self.procs.items() if p.poll() is not None]
            if dead:
                raise RuntimeError('swift %s server exited: %s' % (
                    dead[0], self.log_tail(dead[0])))
            try:
                # The storage servers take connections, and the proxy
                # serves /info (no token needed).
                for name in ('account', 'container', 'object'):
                    if name in self.procs:
                        socket.create_connection(
                            ('127.0.0.1', self.ports[name]), 2).close()
                urllib.request.urlopen(  # noqa: S310 (http only)
                    self.url_prefix.split('/v1/')[0] + '/info',
                    timeout=5).close()
                return
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError('swift proxy not answering on %s'
                                       % self.url) from None
                time.sleep(0.2)

    def log_tail(self, name: str) -> str:
        try:
            return (self.workdir / ('%s.log' % name)).read_text()[-2000:]
        except OSError:
            return ''

    def stop_server(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def stop(self) -> None:
        for name in list(self.procs):
            self.stop_server(name)

    def object_files(self) -> list[pathlib.Path]:
        """The object servers' .data files (to damage one on disk)."""
        return sorted((self.devices / 'd1').glob('objects/**/*.data'))

    def connection(self, **kwargs):
        import swiftclient
        return swiftclient.Connection(preauthurl=self.url,
                                      preauthtoken=self.token,
                                      retries=0, **kwargs)
