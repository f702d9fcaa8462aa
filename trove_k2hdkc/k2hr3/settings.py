"""Settings of the K2HR3 client and of a cluster's K2HR3 objects.

Library code takes these frozen dataclasses; the ``*_from_conf`` factories
are the only place that reads the ``[k2hdkc]`` option group.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from typing import Any

from trove_k2hdkc.chmpx import limits
from trove_k2hdkc.k2hr3.errors import K2hr3ValueError
from trove_k2hdkc.k2hr3.transport import ClientSettings
from trove_k2hdkc.k2hr3.transport import check_url

_PATH_RE = re.compile(r'/[A-Za-z0-9._/-]{1,4095}')
# Fields that become [GLOBAL] values of the INI, checked against chmpx's
# limits here so that no node is ever handed one it refuses.
_GLOBAL_KEYS = {'max_chmpx': 'MAXCHMPX', 'max_mq_server': 'MAXMQSERVER',
                'max_mq_client': 'MAXMQCLIENT',
                'mq_per_attach': 'MQPERATTACH',
                'max_q_per_server_mq': 'MAXQPERSERVERMQ',
                'max_q_per_client_mq': 'MAXQPERCLIENTMQ',
                'max_mq_per_client': 'MAXMQPERCLIENT',
                'mask_bits': 'K2HMASKBIT', 'cmask_bits': 'K2HCMASKBIT',
                'max_elements': 'K2HMAXELE'}


@dataclasses.dataclass(frozen=True)
class ClusterSettings:
    """Values every node of one cluster must agree on (they become keys of
    the parent resource and so reach every rendered INI)."""

    server_port: int = 8020
    server_ctlport: int = 8021
    slave_ctlport: int = 8031
    replica: int = 1
    max_chmpx: int = 256
    max_members: int = 64
    max_mq_server: int = 8
    max_mq_client: int = 128
    mq_per_attach: int = 8
    max_q_per_server_mq: int = 8
    max_q_per_client_mq: int = 8
    max_mq_per_client: int = 16
    k2hfile: str = '/var/lib/antpickax/k2hdkc/k2hdkc.k2h'
    mask_bits: int = 8
    cmask_bits: int = 4
    max_elements: int = 16
    page_size: int = 128
    role_token_lifetime: int = 0

    def __post_init__(self) -> None:
        ports = (self.server_port, self.server_ctlport, self.slave_ctlport)
        for value in dataclasses.astuple(self):
            if isinstance(value, bool):
                raise K2hr3ValueError('cluster settings are not booleans')
        if any(not isinstance(p, int)
               or not limits.MIN_PORT <= p <= limits.MAX_PORT
               for p in ports):
            raise K2hr3ValueError('chmpx ports must be %d..%d'
                                  % (limits.MIN_PORT, limits.MAX_PORT))
        if len(set(ports)) != 3:
            raise K2hr3ValueError('chmpx server port, server ctlport and '
                                  'slave ctlport must differ')
        if not 0 <= self.replica < self.max_members:
            raise K2hr3ValueError('replica must be >= 0 and below the '
                                  'maximum member count')
        # Every server plus at least one slave and the dummy slave entry.
        if self.max_chmpx < self.max_members + 2:
            raise K2hr3ValueError('max_chmpx must leave room for every '
                                  'server member plus slaves')
        for name, key in _GLOBAL_KEYS.items():
            low, high = limits.bounds('GLOBAL', key)
            if not low <= getattr(self, name) <= high:
                raise K2hr3ValueError('%s (%s) must be %d..%d'
                                      % (name, key, low, high))
        if not 128 <= self.page_size <= limits.INT_MAX:
            raise K2hr3ValueError('k2hash page size must be 128..%d'
                                  % limits.INT_MAX)
        if (not _PATH_RE.fullmatch(self.k2hfile)
                or posixpath.normpath(self.k2hfile) != self.k2hfile):
            raise K2hr3ValueError('K2HFILE must be a normalised absolute '
                                  'path')
        if self.role_token_lifetime < 0:
            raise K2hr3ValueError('role token lifetime must be >= 0')

    @property
    def server_ctlport_offset(self) -> int:
        return self.server_ctlport - self.server_port


def _group(conf: Any) -> Any:
    return conf.get('k2hdkc') if hasattr(conf, 'get') else conf.k2hdkc


def tls_verify_from_opts(opts: Any) -> bool | str:
    """``requests``' verify value from the [k2hdkc] TLS options."""
    if opts.k2hr3_insecure:
        return False
    return opts.k2hr3_ca_file or True


def client_settings_from_conf(conf: Any) -> ClientSettings:
    """Build client settings from ``conf.k2hdkc`` (a registered group)."""
    opts = _group(conf)
    if not opts.k2hr3_api_url:
        raise K2hr3ValueError('[k2hdkc] k2hr3_api_url is not set')
    return ClientSettings(base_url=opts.k2hr3_api_url,
                          verify=tls_verify_from_opts(opts),
                          timeout=opts.k2hr3_timeout,
                          retries=opts.k2hr3_retries,
                          backoff=opts.k2hr3_retry_backoff,
                          allow_http=opts.k2hr3_allow_insecure_http)


def guest_api_url_from_conf(conf: Any) -> str:
    """The K2HR3 URL handed to guests (``k2hr3_guest_api_url``, else
    ``k2hr3_api_url``), refused over plain http like the controller's."""
    opts = _group(conf)
    url = opts.k2hr3_guest_api_url or opts.k2hr3_api_url
    check_url(url, opts.k2hr3_allow_insecure_http)
    return url


def cluster_settings_from_conf(conf: Any) -> ClusterSettings:
    opts = _group(conf)
    return ClusterSettings(
        server_port=opts.chmpx_server_port,
        server_ctlport=opts.chmpx_server_ctlport,
        slave_ctlport=opts.chmpx_slave_ctlport,
        replica=opts.replica,
        max_chmpx=opts.max_chmpx,
        max_members=opts.max_cluster_member_count,
        max_mq_server=opts.chmpx_max_mq_server,
        max_mq_client=opts.chmpx_max_mq_client,
        mq_per_attach=opts.chmpx_mq_per_attach,
        max_q_per_server_mq=opts.chmpx_max_q_per_server_mq,
        max_q_per_client_mq=opts.chmpx_max_q_per_client_mq,
        max_mq_per_client=opts.chmpx_max_mq_per_client,
        k2hfile=posixpath.join(opts.data_dir, 'k2hdkc.k2h'),
        mask_bits=opts.k2hash_mask_bits,
        cmask_bits=opts.k2hash_cmask_bits,
        max_elements=opts.k2hash_max_elements,
        page_size=opts.k2hash_page_size,
        role_token_lifetime=opts.k2hr3_role_token_lifetime)
