"""The ``[k2hdkc]`` option group.

Trove 26 hard-codes its datastore option groups in ``trove.common.cfg`` and
has no entry point for a new one, yet trove-api, trove-taskmanager,
trove-conductor, trove-guestagent and trove-manage all read
``CONF.get('k2hdkc')``. This module owns the group; ``register()`` puts it on a
``ConfigOpts`` (see ``trove_k2hdkc.conf_driver`` for how that happens in every
Trove process without patching Trove) and ``list_opts()`` feeds
oslo-config-generator.

The first block mirrors the options Trove itself reads from a datastore group
(same names, types and meaning as Trove's ``[mariadb]`` group); the second is
the plugin's own: K2HR3, CHMPX and k2hash settings, node runtime.
"""

from __future__ import annotations

import copy

from oslo_config import cfg
from oslo_config import types
from trove.common.cfg import ListOfPortsType

from trove_k2hdkc.chmpx import limits

GROUP_NAME = 'k2hdkc'

k2hdkc_group = cfg.OptGroup(
    GROUP_NAME, title='K2HDKC datastore options',
    help='Options of the K2HDKC datastore (trove-k2hdkc plugin).')

_STRATEGY_PACKAGE = 'trove_k2hdkc.cluster'

# Options that Trove's own code reads from a datastore's group.
trove_datastore_opts = [
    cfg.StrOpt('database_service_uname', default='k2hdkc',
               help='Name of the operating-system user that owns the data '
                    'volume and runs chmpx and k2hdkc in the guest.'),
    cfg.StrOpt('database_service_uid', default='1001',
               help='UID of the database service user (created by the guest '
                    'agent at start).'),
    cfg.StrOpt('database_service_gid', default='1001',
               help='GID of the database service user.'),
    cfg.StrOpt('device_path', default='/dev/vdb',
               help='Device path of the Cinder volume in the guest when '
                    'volume_support is on.'),
    cfg.StrOpt('mount_point', default='/var/lib/antpickax',
               help='Where the guest mounts the data volume; the K2HFILE and '
                    'the node state live below it.'),
    cfg.BoolOpt('volume_support', default=True,
                help='Whether to provision a Cinder volume for the data '
                     'directory.'),
    cfg.ListOpt('tcp_ports', default=['8020', '8021', '8031'],
                item_type=ListOfPortsType,
                help='TCP ports and port ranges opened in the instance '
                     'security group: CHMPX server port, server control '
                     'port, slave control port.'),
    cfg.ListOpt('udp_ports', default=[], item_type=ListOfPortsType,
                help='UDP ports and port ranges opened in the instance '
                     'security group (K2HDKC uses none).'),
    cfg.StrOpt('replication_strategy', default='K2hdkcReplication',
               help='Trove replication strategy class name. K2HDKC '
                    'replicates inside the ring (REPLICA), so this strategy '
                    'refuses Trove replicas with a clear error.'),
    cfg.StrOpt('replication_namespace',
               default='trove_k2hdkc.guest.replication',
               help='Module that holds replication_strategy.'),
    cfg.BoolOpt('root_on_create', default=False,
                help='K2HDKC has no database users; must stay False.'),
    cfg.StrOpt('backup_strategy', default='k2hdkcbackup',
               help='Backup driver name passed to the backup container as '
                    '--driver. Empty disables backups.'),
    cfg.StrOpt('backup_docker_image',
               sample_default='your-registry/your-repo/db-backup-k2hdkc',
               help='Docker image used for backup and restore; the '
                    'datastore version is used as its tag.'),
    cfg.StrOpt('docker_image', default='trove-k2hdkc/k2hdkc',
               help='Docker image of the database container (docker node '
                    'runtime), built from guestagent/ of trove-k2hdkc; the '
                    'datastore version is used as its tag.'),
    cfg.BoolOpt('cluster_support', default=True,
                help='Enable K2HDKC clusters to be created and managed.'),
    cfg.IntOpt('min_cluster_member_count', default=1, min=1,
               help='Minimum number of server members in a K2HDKC cluster.'),
    cfg.StrOpt('api_strategy',
               default=_STRATEGY_PACKAGE + '.api.K2hdkcAPIStrategy',
               help='Class that implements the K2HDKC cluster API logic.'),
    cfg.StrOpt('taskmanager_strategy',
               default=_STRATEGY_PACKAGE + '.taskmanager.'
                       'K2hdkcTaskManagerStrategy',
               help='Class that implements the K2HDKC cluster task manager '
                    'logic.'),
    cfg.StrOpt('guestagent_strategy',
               default=_STRATEGY_PACKAGE + '.guestagent.'
                       'K2hdkcGuestAgentStrategy',
               help='Class that implements the K2HDKC guest agent RPC API.'),
    cfg.StrOpt('root_controller', default=None,
               help='Root controller class; K2HDKC has no root user, so '
                    'unset means "root not supported".'),
    cfg.ListOpt('guest_log_exposed_logs', default=['chmpx', 'k2hdkc'],
                item_type=types.String(ignore_case=True),
                help='Guest logs exposed for publishing.'),
    cfg.IntOpt('default_password_length', default=36, min=8,
               help='Length of passwords Trove generates for this datastore.'),
    cfg.IntOpt('usage_timeout', default=900,
               help='Seconds to wait for a guest to become active; a '
                    "cluster create or grow waits this long for its new "
                    'members, less when one fails or its Nova server '
                    'vanishes.'),
    cfg.ListOpt('ignore_users', default=[],
                help='Users to exclude when listing users (none exist).'),
    cfg.ListOpt('ignore_dbs', default=[],
                help='Databases to exclude when listing (none exist).'),
]

# The plugin's own options.
k2hr3_opts = [
    cfg.URIOpt('k2hr3_api_url', schemes=['http', 'https'],
               help='Base URL of the K2HR3 REST API, e.g. '
                    'https://k2hr3.example.net:18080 (no /v1 suffix).'),
    cfg.StrOpt('k2hr3_ca_file',
               help='CA bundle that verifies the K2HR3 API certificate. '
                    'Unset uses the system trust store.'),
    cfg.BoolOpt('k2hr3_allow_insecure_http', default=False,
                help='Accept a plain http:// k2hr3_api_url or '
                     'k2hr3_guest_api_url. Off, such a URL is refused '
                     'when a K2HR3 client is built (control plane) and '
                     'in the access a guest receives, because every '
                     "K2HR3 request carries the requester's Keystone "
                     "token or a node's role token, readable by anyone on "
                     'the path without TLS. For test beds only.'),
    cfg.BoolOpt('k2hr3_insecure', default=False,
                help='Skip TLS certificate verification of the K2HR3 API. '
                     'For test beds only.'),
    cfg.FloatOpt('k2hr3_timeout', default=10.0, min=0.1,
                 help='Seconds to wait for a K2HR3 API connection or reply.'),
    cfg.IntOpt('k2hr3_retries', default=3, min=0,
               help='Retries of a K2HR3 request after a connection error or '
                    'a 5xx reply (never after a 4xx).'),
    cfg.FloatOpt('k2hr3_retry_backoff', default=0.5, min=0.0,
                 help='Seconds before the first K2HR3 retry; doubles per '
                      'retry.'),
    cfg.IntOpt('k2hr3_teardown_attempts', default=4, min=1,
               help='Times a cluster teardown (delete), or the removal of '
                    'a shrink\'s leavers from K2HR3, is run while K2HR3 '
                    'fails transiently (5xx, connection error, timeout) '
                    'after the per-request retries; the wait between runs '
                    'starts at k2hr3_teardown_backoff and doubles. What '
                    'still remains then leaves the cluster in '
                    'DELETE_FAILED, naming the objects, or the leavers '
                    'listed for the shrink to be run again '
                    '(doc/k2hr3-layout.md §4).'),
    cfg.FloatOpt('k2hr3_teardown_backoff', default=2.0, min=0.0,
                 help='Seconds before the second teardown run; doubles per '
                      'run.'),
    cfg.StrOpt('k2hr3_owner_token_function',
               default='trove_k2hdkc.cluster.owner.service_token',
               help='Import path of a function(project_id) -> a Keystone '
                    "token of that project, used when a request of another "
                    "project (an admin's) acts on a cluster or instance: "
                    "its K2HR3 objects live in the owner's tenant "
                    '(doc/k2hr3-layout.md §5). The default uses Trove\'s '
                    '[service_credentials] scoped to the project, so that '
                    'user needs a role there. Like Trove\'s remote_*_client '
                    'options.'),
    cfg.URIOpt('k2hr3_guest_api_url', schemes=['http', 'https'],
               help='K2HR3 API URL as the guests reach it, when it differs '
                    'from k2hr3_api_url (the controller side). Unset uses '
                    'k2hr3_api_url.'),
    cfg.IntOpt('k2hr3_role_token_lifetime', default=0, min=0,
               help='Lifetime in seconds of the role tokens issued to '
                    'cluster nodes; 0 asks K2HR3 for its longest (about ten '
                    'years). Tokens are revoked when the cluster is deleted.'),
]

# Bounds are chmpx's (``limits``): a value it would refuse stops the service
# at start instead of failing a create or grow on the guests.
chmpx_opts = [
    cfg.PortOpt('chmpx_server_port', default=8020,
                min=limits.MIN_PORT, max=limits.MAX_PORT,
                help='CHMPX port that server nodes use for ring traffic.'),
    cfg.PortOpt('chmpx_server_ctlport', default=8021,
                min=limits.MIN_PORT, max=limits.MAX_PORT,
                help='CHMPX control port of server nodes.'),
    cfg.PortOpt('chmpx_slave_ctlport', default=8031,
                min=limits.MIN_PORT, max=limits.MAX_PORT,
                help='CHMPX control port of slave (client) nodes.'),
    cfg.IntOpt('replica', default=1, min=0,
               help='REPLICA: extra copies of every key kept on the next '
                    'servers of the ring. 1 survives the loss of any one '
                    'node.'),
    cfg.IntOpt('max_chmpx', default=256, min=2, max=4096,
               help='MAXCHMPX: most server plus slave nodes one cluster can '
                    'ever hold. Fixed at cluster creation; room for growth.'),
    cfg.IntOpt('max_cluster_member_count', default=64, min=1,
               help='Maximum number of server members in a K2HDKC cluster.'),
    cfg.IntOpt('chmpx_max_mq_server', default=8, min=1,
               max=limits.high('GLOBAL', 'MAXMQSERVER'),
               help='MAXMQSERVER: POSIX message queues between chmpx and the '
                    'k2hdkc server process.'),
    cfg.IntOpt('chmpx_max_mq_client', default=128, min=1,
               max=limits.high('GLOBAL', 'MAXMQCLIENT'),
               help='MAXMQCLIENT: POSIX message queues for client processes.'),
    cfg.IntOpt('chmpx_mq_per_attach', default=8, min=1,
               max=limits.high('GLOBAL', 'MQPERATTACH'),
               help='MQPERATTACH: queues handed to one attaching process.'),
    cfg.IntOpt('chmpx_max_q_per_server_mq', default=8, min=1,
               max=limits.high('GLOBAL', 'MAXQPERSERVERMQ'),
               help='MAXQPERSERVERMQ: messages per server queue; must not '
                    'exceed the host fs.mqueue.msg_max.'),
    cfg.IntOpt('chmpx_max_q_per_client_mq', default=8, min=1,
               max=limits.high('GLOBAL', 'MAXQPERCLIENTMQ'),
               help='MAXQPERCLIENTMQ: messages per client queue; must not '
                    'exceed the host fs.mqueue.msg_max.'),
    cfg.IntOpt('chmpx_max_mq_per_client', default=16, min=1,
               max=limits.high('GLOBAL', 'MAXMQPERCLIENT'),
               help='MAXMQPERCLIENT: queues one client process may hold.'),
]

k2hash_opts = [
    cfg.IntOpt('k2hash_mask_bits', default=8, min=2, max=28,
               help='K2HMASKBIT of the K2HFILE: initial hash table size is '
                    '2^bits.'),
    cfg.IntOpt('k2hash_cmask_bits', default=4, min=1, max=16,
               help='K2HCMASKBIT: collision mask bits per hash table entry.'),
    cfg.IntOpt('k2hash_max_elements', default=16, min=1, max=limits.INT_MAX,
               help='K2HMAXELE: elements per collision list before the '
                    'table grows.'),
    cfg.IntOpt('k2hash_page_size', default=128, min=128, max=limits.INT_MAX,
               help='K2HPAGESIZE in bytes.'),
]

node_opts = [
    cfg.StrOpt('node_runtime', default='docker',
               choices=[('docker', 'chmpx and k2hdkc in the "database" '
                                   'container (Trove guest images)'),
                        ('process', 'chmpx and k2hdkc from PATH, supervised '
                                    'by the guest agent')],
               help='How the guest agent runs a K2HDKC node.'),
    cfg.StrOpt('data_dir', default='$mount_point/k2hdkc',
               help='Directory of the K2HFILE and node state in the guest.'),
    cfg.StrOpt('conf_dir', default='/etc/antpickax',
               help='Directory of the rendered k2hdkc.ini in the guest.'),
    cfg.StrOpt('chmpx_binary', default='chmpx',
               help='chmpx executable (process runtime); looked up on PATH '
                    'unless absolute.'),
    cfg.StrOpt('k2hdkc_binary', default='k2hdkc',
               help='k2hdkc executable (process runtime); looked up on PATH '
                    'unless absolute.'),
    cfg.FloatOpt('node_start_timeout', default=120.0, min=1.0,
                 help='Seconds a node may take to reach SERVICE IN/UP after '
                      "start; also bounds the guest's other waits for a "
                      'node state ([Suspend] after k2hdkc stopped, '
                      '[Pending] after a restart, healthy after '
                      'COMPMERGE).'),
    cfg.FloatOpt('ctlport_timeout', default=5.0, min=0.1,
                 help='Seconds to wait for a CHMPX control-port status '
                      'reply (VERSION, SELFSTATUS, ALLSTATUS).'),
    cfg.FloatOpt('ctlport_command_timeout', default=60.0, min=0.1,
                 help='Seconds to wait for the reply of a state-changing '
                      'CHMPX control-port command (SERVICEIN, SERVICEOUT, '
                      'MERGE, COMPMERGE, ABORTMERGE, SUSPENDMERGE...). '
                      'chmpx can take several seconds to answer MERGE on a '
                      'busy ring. When MERGE, COMPMERGE or ABORTMERGE gets '
                      'no reply in time, the node status decides whether '
                      'it took effect.'),
    cfg.FloatOpt('chmpx_detach_wait', default=2.0, min=0.0,
                 help='Seconds to wait, after k2hdkc stopped, for chmpx to '
                      'report [Suspend] before chmpx is sent SIGHUP. chmpx '
                      '1.0.109 can crash (SIGSEGV) when SIGHUP comes less '
                      'than about 1 s after its last client detached.'),
    cfg.StrOpt('guestagent_dir',
               help='Directory of the guest agent prepare markers. Unset '
                    "keeps Trove's /opt/trove-guestagent; set it when "
                    'several guest agents share one host.'),
]

cluster_opts = [
    cfg.FloatOpt('cluster_status_timeout', default=120.0, min=1.0,
                 help='Seconds a cluster procedure waits for one CHMPX '
                      'status change on every member; also how long a '
                      'MERGE, ABORTMERGE or COMPMERGE call that failed '
                      'or got no reply is judged by the ring status '
                      'before its error counts.'),
    cfg.FloatOpt('merge_timeout', default=300.0, min=60.0,
                 help="Seconds a MERGE may go without any member's "
                      'status changing before the cluster procedure calls '
                      'it hung: it is aborted and sent again, after a '
                      "second hang the stuck members' k2hdkc is "
                      'restarted for a last try, and a third hang fails '
                      'the procedure. A guest merging itself back (Trove '
                      'instance restart, self-heal) waits this long for '
                      'the merge to finish, then aborts it via a peer and '
                      'tries once more.'),
    cfg.FloatOpt('cluster_poll_interval', default=2.0, min=0.1,
                 help='Seconds between node status polls during cluster '
                      'procedures.'),
    cfg.FloatOpt('guest_status_rpc_timeout', default=15.0, min=1.0,
                 help='Seconds the control plane waits for a guest to '
                      'answer node_status. A status poll that gets no '
                      'answer counts as "not yet" until the step\'s own '
                      'deadline.'),
    cfg.FloatOpt('guest_command_rpc_timeout', default=75.0, min=1.0,
                 help='Seconds the control plane waits for a guest to '
                      'answer a CHMPX control-port command (service_in, '
                      'service_out, merge, complete_merge, abort_merge, '
                      'suspend_merge, resume_merge). Keep it above '
                      'ctlport_command_timeout, the guest\'s own wait for '
                      'chmpx; a lost MERGE, COMPMERGE or ABORTMERGE reply '
                      'is judged by the ring status.'),
    cfg.FloatOpt('guest_config_rpc_timeout', default=60.0, min=1.0,
                 help='Seconds the control plane waits for configure_node, '
                      'refresh_config (a K2HR3 fetch with its retries), '
                      'purge_finish, pre_upgrade and cluster_complete.'),
    cfg.FloatOpt('guest_node_rpc_timeout', default=300.0, min=10.0,
                 help='Seconds the control plane waits for a guest to '
                      'start, stop or restart its node (start_node, '
                      'stop_node, restart_k2hdkc, purge_prepare, '
                      'restart_node, a rolling upgrade). Keep it above '
                      'twice node_start_timeout plus 30 s (a stuck k2hdkc '
                      'escalates to a chmpx restart). A restart or upgrade '
                      'in which the guest merges its node back itself '
                      'gets two merge_timeout more. A guest silent for '
                      "that long fails the step, naming the member, "
                      "instead of waiting for Trove's usage_timeout."),
    cfg.FloatOpt('guest_restore_rpc_timeout', default=3600.0, min=10.0,
                 help='Seconds the control plane waits for a member of a '
                      'cluster restored from a backup set to download, '
                      'verify and load its backup (restore_node); size it '
                      'for the largest node backup.'),
    cfg.FloatOpt('task_heartbeat_interval', default=20.0, min=0.5,
                 help='Seconds between the heartbeats a running cluster '
                      "operation writes (the cluster row's updated time), "
                      'which show that its taskmanager is alive.'),
    cfg.FloatOpt('task_orphan_after', default=120.0, min=2.0,
                 help='A create, grow, shrink, restart or upgrade whose '
                      'heartbeat is this many seconds old has lost its '
                      'taskmanager (a create is then failed, not resumed). '
                      'A taskmanager that starts looks for such tasks and '
                      'finishes or ends each one so that the ring serves '
                      'and the task is NONE again (see '
                      'doc/ring-procedures.md). Keep it several times '
                      'task_heartbeat_interval.'),
]

ALL_OPTS = (trove_datastore_opts + k2hr3_opts + chmpx_opts + k2hash_opts
            + node_opts + cluster_opts)


def register(conf: cfg.ConfigOpts) -> None:
    """Register the ``[k2hdkc]`` group on ``conf``; safe to call twice."""
    conf.register_group(k2hdkc_group)
    conf.register_opts(ALL_OPTS, group=k2hdkc_group)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    """Return the group's options for oslo-config-generator."""
    return [(k2hdkc_group, copy.deepcopy(list(ALL_OPTS)))]
