"""Trove guest-agent manager of the ``k2hdkc`` datastore.

Registered with ``datastore_registry_ext = k2hdkc:trove_k2hdkc.guest.
manager.Manager``.  A thin RPC surface: every method maps its arguments
and delegates to ``service.K2hdkcApp`` (contract: doc/guest-rpc.md).
Configuration is read here, at the edge, and nowhere else.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from oslo_log import log as logging
from oslo_utils import timeutils
from trove.common import cfg
from trove.conductor import api as conductor_api
from trove.guestagent import guest_log
from trove.guestagent.datastore import manager as trove_manager

from trove_k2hdkc.guest import errors
from trove_k2hdkc.guest.access import AccessStore
from trove_k2hdkc.guest.access import node_access
from trove_k2hdkc.guest.backup import NodeBackups
from trove_k2hdkc.guest.heal import Healer
from trove_k2hdkc.guest.node_config import K2hr3Fetcher
from trove_k2hdkc.guest.node_config import K2hr3Registrar
from trove_k2hdkc.guest.node_config import NodeConfig
from trove_k2hdkc.guest.runtime.docker import DockerRuntime
from trove_k2hdkc.guest.runtime.process import ProcessRuntime
from trove_k2hdkc.guest.service import K2hdkcApp
from trove_k2hdkc.guest.status import K2hdkcStatus
from trove_k2hdkc.k2hr3.settings import tls_verify_from_opts

LOG = logging.getLogger(__name__)
CONF = cfg.CONF
MANAGER = 'k2hdkc'
INI_NAME = 'k2hdkc.ini'
ACCESS_KEY = 'k2hr3'


class Manager(trove_manager.Manager):
    """The k2hdkc datastore manager (constructed without arguments)."""

    def __init__(self) -> None:
        super().__init__(MANAGER)
        opts = CONF.get(MANAGER)
        self._docker = opts.node_runtime == 'docker'
        ctlport = opts.chmpx_server_ctlport
        ini_path = os.path.join(opts.conf_dir, INI_NAME)
        # The INI is checked against the guest's own options, never
        # against itself (doc/k2hr3-layout.md §5).
        node_config = NodeConfig(ini_path, CONF.guest_id, ctlport,
                                 data_dir=opts.data_dir,
                                 port=opts.chmpx_server_port)
        runtime = self._build_runtime(opts, ini_path, ctlport)
        k2hr3_opts = {'verify': tls_verify_from_opts(opts),
                      'timeout': opts.k2hr3_timeout,
                      'retries': opts.k2hr3_retries,
                      'backoff': opts.k2hr3_retry_backoff,
                      'allow_http': opts.k2hr3_allow_insecure_http}
        self._allow_http = opts.k2hr3_allow_insecure_http
        fetcher = K2hr3Fetcher(**k2hr3_opts)
        self.registrar = K2hr3Registrar(**k2hr3_opts)
        self.app = K2hdkcApp(
            runtime, node_config, AccessStore(opts.conf_dir), fetcher,
            ctlport_timeout=opts.ctlport_timeout,
            ctlport_command_timeout=opts.ctlport_command_timeout,
            conf_dir=opts.conf_dir,
            data_dir=opts.data_dir, start_timeout=opts.node_start_timeout,
            merge_timeout=opts.merge_timeout)
        self.healer = Healer(self.app)
        self.backups = NodeBackups(
            ini_path, driver=opts.backup_strategy,
            container=CONF.backup_swift_container,
            encryption_key=CONF.backup_aes_cbc_key or None,
            insecure=CONF.swift_api_insecure,
            unsupported=('backups run with the process node runtime only '
                         '([k2hdkc] node_runtime = process)'
                         if self._docker else None))
        self.status = K2hdkcStatus(
            runtime, self.app.self_status,
            guestagent_dir=opts.guestagent_dir, observe=self.healer.observe)
        # After a VM or agent restart; in the background so the agent
        # serves RPCs at once (they wait for the node's lock).
        self.resume_thread = threading.Thread(
            target=self.app.resume, name='k2hdkc-resume', daemon=True)
        self.resume_thread.start()

    def _build_runtime(self, opts: Any, ini_path: str, ctlport: int):
        if self._docker:
            return DockerRuntime(
                lambda: trove_manager.Manager.docker_client.fget(self),
                image=opts.docker_image, version=CONF.datastore_version,
                ini_path=ini_path,
                conf_dir=opts.conf_dir, data_dir=opts.data_dir,
                ctlport=ctlport, detach_wait=opts.chmpx_detach_wait)
        return ProcessRuntime(
            ini_path, ctlport, run_dir=os.path.join(opts.data_dir, '.run'),
            log_dir=self.datastore_log_dir(),
            chmpx_binary=opts.chmpx_binary,
            k2hdkc_binary=opts.k2hdkc_binary,
            ready=self._chmpx_answers,
            detached=self._chmpx_suspended,
            detach_wait=opts.chmpx_detach_wait,
            start_timeout=opts.node_start_timeout)

    def _chmpx_answers(self) -> bool:
        try:
            self.app.client.version()
        except errors.K2hdkcError:
            return False
        return True

    def _chmpx_suspended(self) -> bool:
        """chmpx saw its k2hdkc go: SIGHUP is safe now
        (doc/ring-procedures.md §9)."""
        try:
            return self.app.self_status().suspended
        except errors.K2hdkcError:
            return False

    @property
    def docker_client(self):
        """Trove's profiler reads every property: no Docker connection
        unless the node runs in Docker."""
        if not self._docker:
            return None
        return super().docker_client

    def datastore_log_dir(self) -> str:
        return os.path.join(self.GUEST_LOG_BASE_DIR,
                            self.GUEST_LOG_DATASTORE_DIRNAME)

    def get_datastore_log_defs(self) -> dict[str, dict]:
        owner = CONF.get(MANAGER).database_service_uname
        return {name: {self.GUEST_LOG_TYPE_LABEL: guest_log.LogType.SYS,
                       self.GUEST_LOG_USER_LABEL: owner,
                       self.GUEST_LOG_FILE_LABEL: os.path.join(
                           self.datastore_log_dir(), '%s.log' % name)}
                for name in ('chmpx', 'k2hdkc')}

    # -- Trove base -----

    def do_prepare(self, context, packages, databases, memory_mb, users,
                   device_path, mount_point, backup_info, config_contents,
                   root_password, overrides, cluster_config, snapshot,
                   ds_version=None):
        """Idempotent: every step may be re-run after an agent crash."""
        self.app.prepare_dirs()
        self.app.save_config_contents(config_contents)
        if cluster_config:
            LOG.info('Cluster member of %s prepared; the node starts when '
                     'the cluster is configured.', cluster_config.get('id'))
            return
        try:
            self._prepare_single(context, overrides, backup_info)
        except Exception as exc:
            # Trove's prepare only sets the status FAILED; the
            # taskmanager asks for why (``prepare_failure``) and shows it
            # as the instance's fault (doc/backup.md §4).
            self.prepare_failed = '%s' % exc
            raise

    #: Why this agent's prepare failed, for ``prepare_failure``.
    prepare_failed: str | None = None

    def prepare_failure(self, context):
        """Why the prepare failed (None if it did not)."""
        return self.prepare_failed

    def _prepare_single(self, context, overrides: Any,
                        backup_info: dict | None = None) -> None:
        """A single-node instance: the taskmanager
        (``trove_k2hdkc.taskmanager.Manager``) provisioned a one-member
        K2HR3 layout and hands its access in ``overrides['k2hr3']``; the
        node registers itself, fetches its INI and bootstraps alone."""
        raw = overrides.get(ACCESS_KEY) if isinstance(overrides,
                                                      dict) else None
        if not isinstance(raw, dict) or not raw:
            raise errors.GuestNodeError(
                'a K2HDKC instance must be a cluster member or be given '
                'K2HR3 access in overrides[%r] (is the taskmanager '
                'configured with trove_k2hdkc.taskmanager.Manager?)'
                % ACCESS_KEY)
        access = node_access(raw, 'overrides[%r]' % ACCESS_KEY,
                             allow_http=self._allow_http)
        self.registrar(access, self.app.node_config.own_id)
        self.app.configure_node(access)
        if backup_info:
            # Before the first start: the restored file is the node's
            # file from its first attach (doc/backup.md §4).
            self.backups.restore(backup_info, context.auth_token)
        self.app.start_node()
        self.app.bootstrap_alone()

    def create_backup(self, context, backup_info):
        """Trove's backup RPC: BUILDING, then COMPLETED or FAILED to the
        conductor; the node keeps serving (doc/backup.md §1)."""
        conductor = conductor_api.API(context)

        def report(**fields):
            conductor.update_backup(
                CONF.guest_id, sent=timeutils.utcnow_ts(microsecond=True),
                **fields)
        self.backups.create(backup_info, context.auth_token, report)

    def restore_node(self, context, backup_info):
        """Cluster restore (doc/backup.md §6): this member's backup of a
        set, after ``configure_node`` and before ``start_node``."""
        return self.app.restore_node(
            lambda: self.backups.restore(backup_info, context.auth_token))

    def stop_db(self, context):
        self.app.stop_node()

    def restart(self, context):
        return self.app.restart()

    def upgrade(self, context, upgrade_info):
        """``upgrade_info['datastore_version']`` is the new version (the
        image tag in Docker); returns once the node is healthy again, or
        at [Pending] when ``upgrade_info['rejoin']`` is False (a rolling
        upgrade watches the merge back itself).
        ``pre_upgrade`` is the base one (``{}``): nothing to carry over."""
        version = (upgrade_info or {}).get('datastore_version')
        if not version:
            raise errors.GuestNodeError(
                'upgrade_info carries no datastore_version: %r'
                % sorted(upgrade_info or {}))
        return self.app.upgrade(str(version),
                                rejoin=upgrade_info.get('rejoin') is not False)

    def start_db_with_conf_changes(self, context, config_contents,
                                   ds_version):
        self.app.save_config_contents(config_contents)
        if self.app.is_configured():
            self.app.start_node()

    # -- cluster RPCs (doc/guest-rpc.md §2) -----

    def configure_node(self, context, k2hr3_url, resource_yrn, role_yrn,
                       role_token):
        return self.app.configure_node(node_access(
            {'k2hr3_url': k2hr3_url, 'resource_yrn': resource_yrn,
             'role_yrn': role_yrn, 'role_token': role_token},
            'configure_node', allow_http=self._allow_http))

    def start_node(self, context):
        return self.app.start_node()

    def refresh_config(self, context):
        return self.app.refresh_config()

    def service_in(self, context):
        return self.app.service_in()

    def service_out(self, context, server, ctlport, custom_id_seed):
        return self.app.service_out(server, ctlport, custom_id_seed)

    def restart_k2hdkc(self, context):
        return self.app.restart_k2hdkc()

    def merge(self, context):
        return self.app.merge()

    def complete_merge(self, context):
        return self.app.complete_merge()

    def abort_merge(self, context):
        return self.app.abort_merge()

    def suspend_merge(self, context):
        return self.app.suspend_merge()

    def resume_merge(self, context):
        return self.app.resume_merge()

    def node_status(self, context):
        return self.app.node_status()

    def restart_node(self, context):
        return self.app.restart(rejoin=False)

    def purge_prepare(self, context):
        return self.app.purge_prepare()

    def purge_finish(self, context):
        return self.app.purge_finish()

    def purge_node(self, context):
        """The whole purge guest-side, for a taskmanager older than
        ``purge_prepare``/``purge_finish``."""
        return self.app.purge_node()

    def stop_node(self, context):
        return self.app.stop_node()
