"""pytest fixtures: a whole rig per test session, always torn down; and
a rig behind a real Keystone for the modules that need one.

Use with ``from tests.rig.fixture import trove_rig  # noqa: F401`` (and
``keystone_rig``). The
handle runs the real ``openstack`` CLI; teardown stops every process,
removes the namespaces, bridge, vhost/user and database, and fails the
session if any rig namespace survived.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import dataclasses
import os
import pathlib
import shutil
import socket
import sys
import tempfile
from typing import Any

import pytest

from tests.rig import cli
from tests.rig import config
from tests.rig import launcher
from tests.rig import netns
from tests.rig import services

TEST_RIG_NAME = 'k2rigt'
TEST_SUBNET = '10.247.1.0/24'
# A number N runs the test rig as 'k2rigtN' on 10.247.(10+N).0/24, so two
# test sessions can share the machine (names, vhost, database, bridge and
# namespaces are all derived from the rig's name; ports are free ones).
SLOT_ENV = 'K2HDKC_RIG_SLOT'
# Set to keep the rig's logs after a session that passed, too.
KEEP_LOGS_ENV = 'K2HDKC_RIG_KEEP_LOGS'
# Where the session's state dir (and kept logs) is made; /var/tmp unless
# set (a folder of its own keeps it from another session's clean-up).
STATE_PARENT_ENV = 'K2HDKC_RIG_STATE_PARENT'


@dataclasses.dataclass
class RigHandle:
    info: dict[str, Any]
    state_dir: pathlib.Path

    @property
    def api_url(self) -> str:
        return self.info['api_url']

    def openstack(self, *args: str, parse: bool = True,
                  who: str | None = None) -> Any:
        """Run ``openstack <args>``; parsed ``-f json`` output."""
        return cli.openstack(self.info, *args, parse=parse, who=who)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


# What the rig runs on, as the README lists it: (what, is it here?).
PREREQUISITES = (
    ('root (network namespaces)', lambda: os.geteuid() == 0),
    ('Python >= 3.11', lambda: sys.version_info >= (3, 11)),
    ('ip (iproute2)', lambda: bool(shutil.which('ip'))),
    ('unshare (util-linux)', lambda: bool(shutil.which('unshare'))),
    ('RabbitMQ (rabbitmq-server, rabbitmqctl)',
     lambda: bool(shutil.which('rabbitmq-server')
                  and shutil.which('rabbitmqctl'))),
    ('MariaDB (server %s, client mariadb)' % services.MARIADBD,
     lambda: services.mariadb_available()),
)


def rig_unavailable() -> str | None:
    """Why the rig cannot run here (every missing prerequisite), or
    None."""
    missing = [what for what, present in PREREQUISITES if not present()]
    if missing:
        return 'the rig needs: %s' % '; '.join(missing)
    return None


@pytest.fixture(scope='session')
def trove_rig(request: pytest.FixtureRequest) -> Iterator[RigHandle]:
    name, subnet = rig_identity(os.environ.get(SLOT_ENV, ''))
    with _rig(request, name, subnet, config.default_auth()) as handle:
        yield handle


@pytest.fixture(scope='module')
def keystone_rig(request: pytest.FixtureRequest) -> Iterator[RigHandle]:
    """A rig whose trove-api sits behind a real Keystone: the session's
    rig when it runs with K2HDKC_RIG_AUTH=keystone; else one of its own
    for the module (``keystone_identity``), torn down after it."""
    if config.default_auth() == 'keystone':
        yield request.getfixturevalue('trove_rig')
        return
    name, subnet = keystone_identity(os.environ.get(SLOT_ENV, ''))
    with _rig(request, name, subnet, 'keystone') as handle:
        yield handle


@contextlib.contextmanager
def _rig(request: pytest.FixtureRequest, name: str, subnet: str,
         auth: str) -> Iterator[RigHandle]:
    reason = rig_unavailable()
    if reason:
        pytest.skip(reason)
    # Not under /tmp: every VM mounts a private /tmp over it.
    parent = pathlib.Path(os.environ.get(STATE_PARENT_ENV, '/var/tmp'))
    parent.mkdir(parents=True, exist_ok=True)
    state_dir = pathlib.Path(tempfile.mkdtemp(prefix='k2hdkc-rig-',
                                              dir=parent))
    settings = config.RigSettings(state_dir=state_dir, name=name,
                                  api_port=_free_port(), subnet=subnet,
                                  keystone_port=_free_port(), auth=auth)
    try:
        info = launcher.up(settings)
        yield RigHandle(info=info, state_dir=state_dir)
    finally:
        failed = request.session.testsfailed > 0
        keep = failed or bool(os.environ.get(KEEP_LOGS_ENV))
        launcher.down(state_dir, keep_logs=keep, name=name)
        if keep:
            print('rig logs kept in %s' % state_dir)
        left = netns.list_namespaces(name)
        assert not left, 'rig namespaces left behind: %s' % left
        assert not netns.link_exists(netns.bridge_name(name))


def rig_identity(slot: str) -> tuple[str, str]:
    """(rig name, subnet) of the test rig in ``slot`` ('' is the
    default one)."""
    if not slot:
        return TEST_RIG_NAME, TEST_SUBNET
    if not slot.isdigit() or not 1 <= int(slot) <= 9:
        raise ValueError('%s must be a number from 1 to 9, not %r'
                         % (SLOT_ENV, slot))
    return TEST_RIG_NAME + slot, '10.247.%d.0/24' % (10 + int(slot))


def keystone_identity(slot: str) -> tuple[str, str]:
    """(rig name, subnet) of the Keystone rig that a static-auth session
    in ``slot`` starts for the modules that need a real Keystone
    (``keystone_rig``): ``k2rigk<slot>`` on 10.247.(20+slot).0/24, so it
    never meets a session's rig of any slot."""
    name, _ = rig_identity(slot)
    number = int(slot) if slot else 0
    return ('k2rigk' + name[len(TEST_RIG_NAME):],
            '10.247.%d.0/24' % (20 + number))
