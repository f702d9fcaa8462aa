"""Fetch this node's rendered INI from K2HR3, validate it, install it.

The order matters because a running chmpx reloads its INI by inotify and
shuts down on a bad one (doc/k2hr3-layout.md §5): the text is
completed (SELFCUK), validated for *this* node and only then renamed over
the live file.  A refused INI leaves the live file byte-for-byte intact.
"""

from __future__ import annotations

from collections.abc import Callable
import os
import pathlib

from oslo_log import log as logging

from trove_k2hdkc.chmpx import ini
from trove_k2hdkc.chmpx.errors import InvalidIniError
from trove_k2hdkc.guest import errors
from trove_k2hdkc.guest.fileutil import atomic_write
from trove_k2hdkc.k2hr3 import models
from trove_k2hdkc.k2hr3.access import NodeAccess
from trove_k2hdkc.k2hr3.client import K2hr3Client
from trove_k2hdkc.k2hr3.errors import K2hr3Error
from trove_k2hdkc.k2hr3.layout import MEMBER_EXTRA
from trove_k2hdkc.k2hr3.layout import MEMBER_PORT
from trove_k2hdkc.k2hr3.transport import ClientSettings
from trove_k2hdkc.k2hr3.transport import Transport

LOG = logging.getLogger(__name__)

#: Reads the rendered INI string for an access; raises ConfigFetchError.
Fetcher = Callable[[NodeAccess], str]


class _K2hr3Access:
    """Calls K2HR3 as the node (role token); ``verify``/``timeout``/
    ``retries``/``backoff`` come from the ``[k2hdkc] k2hr3_*`` options;
    the URL comes with the access because the control plane decides
    which K2HR3 the node lives in."""

    def __init__(self, *, verify: bool | str = True, timeout: float = 10.0,
                 retries: int = 3, backoff: float = 0.5) -> None:
        self.verify = verify
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    def _call(self, access: NodeAccess,
              call: Callable[[K2hr3Client], str]) -> str:
        settings = ClientSettings(
            base_url=access.k2hr3_url, verify=self.verify,
            timeout=self.timeout, retries=self.retries,
            backoff=self.backoff)
        with K2hr3Client(Transport(settings)) as client:
            return call(client)


class K2hr3Fetcher(_K2hr3Access):
    """``GET /v1/resource/<yrn>`` with the node's role token."""

    def __call__(self, access: NodeAccess) -> str:
        try:
            resource = models.Yrn.parse(access.resource_yrn)
            return self._call(access, lambda c: c.read_resource_by_role(
                access.role_token, resource))
        except K2hr3Error as exc:
            raise errors.ConfigFetchError(
                'could not read the node INI %s from K2HR3 %s: %s; the '
                'node keeps its current INI, retry later'
                % (access.resource_yrn, access.k2hr3_url,
                   _scrub(str(exc), access.role_token))) from None


class K2hr3Registrar(_K2hr3Access):
    """Self-registration of a single-node instance as the one server of
    its role: ``PUT /v1/role/<role yrn>`` with ``R=<role token>``.

    Why the guest and not the taskmanager: Trove casts ``prepare`` right
    after Nova accepts the server, and its taskmanager offers no point
    between "the IP is known" and "prepare is sent" without copying
    Trove's ``FreshInstanceTasks.create_instance``.  Trade-off: K2HR3
    registers the request's *source* address (doc/k2hr3-layout.md §2), so the
    guest must reach K2HR3 without SNAT/NAT; behind NAT the member would
    be the NAT address, chmpx would not find itself in the INI and the
    node would refuse it (``ConfigRefusedError``) rather than run with a
    wrong ring.  Re-registering is an upsert (idempotent).
    """

    def __call__(self, access: NodeAccess, instance_id: str) -> None:
        try:
            role = models.Yrn.parse(access.role_yrn)
            self._call(access, lambda c: c.add_role_host_by_role_token(
                access.role_token, role, port=MEMBER_PORT, cuk=instance_id,
                extra=MEMBER_EXTRA, tag=instance_id))
        except K2hr3Error as exc:
            raise errors.ConfigFetchError(
                'could not register this node in K2HR3 role %s at %s: %s'
                % (access.role_yrn, access.k2hr3_url,
                   _scrub(str(exc), access.role_token))) from None
        LOG.info('Registered this node in K2HR3 role %s.', access.role_yrn)


def _scrub(text: str, secret: str) -> str:
    return text.replace(secret, '***') if secret else text


class NodeConfig:
    """The live INI file of this node and how it is replaced."""

    def __init__(self, ini_path: str | os.PathLike, instance_id: str | None,
                 ctlport: int) -> None:
        self.path = pathlib.Path(ini_path)
        self.instance_id = instance_id
        self.ctlport = ctlport

    @property
    def identity(self) -> ini.NodeIdentity:
        """CUK and CUSTOM_ID_SEED are both the Trove instance id
        (doc/k2hr3-layout.md §2); chmpx gets ``-ctlport`` on its command
        line."""
        if not self.instance_id:
            raise errors.GuestNodeError('guest_id is not set on this guest')
        return ini.NodeIdentity(mode='SERVER', cuk=self.instance_id,
                                custom_id_seed=self.instance_id,
                                ctlport=self.ctlport, cli_ctlport=True)

    def current(self) -> str | None:
        try:
            return self.path.read_text()
        except FileNotFoundError:
            return None

    def exists(self) -> bool:
        return self.path.is_file()

    def prepare(self, rendered: str) -> tuple[str, ini.ChmpxConfig]:
        """Fill SELFCUK and validate; raises ``ConfigRefusedError``."""
        try:
            identity = self.identity
            text = ini.fill_self_instance_id(rendered, self.instance_id)
            config = ini.check_ini(text, identity)
        except (InvalidIniError, ValueError) as exc:
            raise errors.ConfigRefusedError(
                'refused the INI rendered by K2HR3 for this node (%s); the '
                'running node keeps its current INI' % exc) from None
        return text, config

    def install(self, rendered: str) -> tuple[bool, ini.ChmpxConfig]:
        """Validate and atomically install; ``changed`` is False when the
        live file already holds the same bytes (no needless reload)."""
        text, config = self.prepare(rendered)
        if self.current() == text:
            return False, config
        atomic_write(self.path, text.encode(), mode=0o644)
        LOG.info('Installed a new node INI %s (%d servers).', self.path,
                 len(config.servers))
        return True, config

    def parsed(self) -> ini.ChmpxConfig:
        text = self.current()
        if text is None:
            raise errors.NotConfiguredError(
                'no node INI at %s: call configure_node first' % self.path)
        return ini.parse_ini(text)

    def self_name(self) -> str | None:
        """NAME of the own SVRNODE entry (chmpx accepts control commands
        only from listed hosts, so the agent connects to that address)."""
        try:
            entries = self.parsed().self_entries(self.identity)
        except (errors.GuestNodeError, InvalidIniError):
            return None
        return entries[0].name if len(entries) == 1 else None


def server_list(config: ini.ChmpxConfig) -> list[str]:
    """``NAME:CTLPORT:CUSTOM_ID_SEED`` of every server (SERVICEOUT form)."""
    return ['%s:%s:%s' % (entry.name, entry.ctlport,
                          entry.custom_id_seed or '')
            for entry in config.servers]
