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
from typing import TypeVar

from oslo_log import log as logging

from trove_k2hdkc.chmpx import ini
from trove_k2hdkc.chmpx.errors import InvalidIniError
from trove_k2hdkc.chmpx.errors import UntrustedIniError
from trove_k2hdkc.guest import errors
from trove_k2hdkc.guest.fileutil import atomic_write
from trove_k2hdkc.k2hr3 import models
from trove_k2hdkc.k2hr3.access import NodeAccess
from trove_k2hdkc.k2hr3.client import K2hr3Client
from trove_k2hdkc.k2hr3.errors import K2hr3Error
from trove_k2hdkc.k2hr3.layout import MEMBER_EXTRA
from trove_k2hdkc.k2hr3.layout import MEMBER_PORT
from trove_k2hdkc.k2hr3.layout import NAME_PREFIX
from trove_k2hdkc.k2hr3.layout import check_cluster_id
from trove_k2hdkc.k2hr3.transport import ClientSettings
from trove_k2hdkc.k2hr3.transport import Transport

LOG = logging.getLogger(__name__)

_T = TypeVar('_T')

#: Reads the rendered INI string for an access; raises ConfigFetchError.
Fetcher = Callable[[NodeAccess], str]


class _K2hr3Access:
    """Calls K2HR3 as the node (role token); ``verify``/``timeout``/
    ``retries``/``backoff``/``allow_http`` come from the ``[k2hdkc]
    k2hr3_*`` options;
    the URL comes with the access because the control plane decides
    which K2HR3 the node lives in."""

    def __init__(self, *, verify: bool | str = True, timeout: float = 10.0,
                 retries: int = 3, backoff: float = 0.5,
                 allow_http: bool = False) -> None:
        self.verify = verify
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.allow_http = allow_http

    def _call(self, access: NodeAccess,
              call: Callable[[K2hr3Client], _T]) -> _T:
        settings = ClientSettings(
            base_url=access.k2hr3_url, verify=self.verify,
            timeout=self.timeout, retries=self.retries,
            backoff=self.backoff, allow_http=self.allow_http)
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


def cluster_group(access: NodeAccess) -> str:
    """The GROUP this node's ring must have: ``k2hdkc-<cluster id>``, the
    first part of the resource the control plane told the node to read
    (doc/k2hr3-layout.md §1, §5).  The access comes over Trove's RPC, not
    from K2HR3, so the cluster's user cannot change it."""
    try:
        path = models.Yrn.parse(access.resource_yrn).path
        name = path.split('/', 1)[0]
        if not name.startswith(NAME_PREFIX):
            raise K2hr3Error('not a cluster resource')
        check_cluster_id(name[len(NAME_PREFIX):])
    except K2hr3Error:
        raise errors.ConfigRefusedError(
            'the K2HR3 resource %s of this node is not a cluster resource '
            '(%s<cluster id>), so its INI cannot be checked; the node '
            'keeps its current INI' % (access.resource_yrn, NAME_PREFIX)
        ) from None
    return name


class NodeConfig:
    """The live INI file of this node and how it is replaced.

    ``data_dir`` (every file value must lie below it), ``port`` (the own
    SVRNODE PORT) and ``ssl_dir`` (where SSL files may be) come from the
    guest's own configuration: the INI itself is not trusted
    (doc/k2hr3-layout.md §5)."""

    def __init__(self, ini_path: str | os.PathLike, instance_id: str | None,
                 ctlport: int, *, data_dir: str | os.PathLike,
                 port: int | None = None,
                 ssl_dir: str | os.PathLike | None = None) -> None:
        self.path = pathlib.Path(ini_path)
        self.instance_id = instance_id
        self.ctlport = ctlport
        self.data_dir = str(data_dir)
        self.port = port
        self.ssl_dir = None if ssl_dir is None else str(ssl_dir)

    def trust(self, access: NodeAccess) -> ini.TrustedValues:
        return ini.TrustedValues(
            group=cluster_group(access), data_dir=self.data_dir,
            port=self.port, ctlport=self.ctlport, ssl_dir=self.ssl_dir)

    @property
    def own_id(self) -> str:
        """This guest's Trove instance id; refused when unset."""
        if not self.instance_id:
            raise errors.GuestNodeError('guest_id is not set on this guest')
        return self.instance_id

    @property
    def identity(self) -> ini.NodeIdentity:
        """CUK and CUSTOM_ID_SEED are both the Trove instance id
        (doc/k2hr3-layout.md §2); chmpx gets ``-ctlport`` on its command
        line."""
        return ini.NodeIdentity(mode='SERVER', cuk=self.own_id,
                                custom_id_seed=self.own_id,
                                ctlport=self.ctlport, cli_ctlport=True)

    def current(self) -> str | None:
        try:
            return self.path.read_text()
        except FileNotFoundError:
            return None

    def exists(self) -> bool:
        return self.path.is_file()

    def _check(self, text: str, access: NodeAccess,
               what: str) -> ini.ChmpxConfig:
        """``check_ini`` with this node's identity and trust; refusals
        become ``ConfigRefusedError``/``UntrustedConfigError``."""
        try:
            return ini.check_ini(text, self.identity, self.trust(access))
        except UntrustedIniError as exc:
            raise errors.UntrustedConfigError(
                'refused %s: it holds values this guest does not vouch '
                'for (%s); nothing was changed and the running node keeps '
                'its current INI' % (what, exc)) from None
        except InvalidIniError as exc:
            raise errors.ConfigRefusedError(
                'refused %s (%s); the running node keeps its current INI'
                % (what, exc)) from None

    def prepare(self, rendered: str,
                access: NodeAccess) -> tuple[str, ini.ChmpxConfig]:
        """Fill SELFCUK and validate against this node's identity and
        trust; raises ``ConfigRefusedError``."""
        try:
            # an unset id is refused there like a malformed one
            text = ini.fill_self_instance_id(rendered,
                                             self.instance_id or '')
        except (InvalidIniError, ValueError) as exc:
            raise errors.ConfigRefusedError(
                'refused the INI rendered by K2HR3 for this node (%s); the '
                'running node keeps its current INI' % exc) from None
        return text, self._check(
            text, access, 'the INI rendered by K2HR3 for this node')

    def install(self, rendered: str,
                access: NodeAccess) -> tuple[bool, ini.ChmpxConfig]:
        """Validate and atomically install; ``changed`` is False when the
        live file already holds the same bytes (no needless reload)."""
        text, config = self.prepare(rendered, access)
        if self.current() == text:
            return False, config
        atomic_write(self.path, text.encode(), mode=0o644)
        LOG.info('Installed a new node INI %s (%d servers).', self.path,
                 len(config.servers))
        return True, config

    def _live_text(self) -> str:
        text = self.current()
        if text is None:
            raise errors.NotConfiguredError(
                'no node INI at %s: call configure_node first' % self.path)
        return text

    def parsed(self) -> ini.ChmpxConfig:
        return ini.parse_ini(self._live_text())

    def checked(self, access: NodeAccess) -> ini.ChmpxConfig:
        """The live INI, checked again before the guest acts on its
        values (K2HFILE, GROUP): an INI written before these checks
        existed must not steer a purge either."""
        return self._check(self._live_text(), access, 'the live node INI')

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
