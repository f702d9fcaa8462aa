"""The K2HR3 objects of one K2HDKC cluster, in one place.

Per Trove cluster ``<id>`` (names come only from the validated cluster id,
never from user-supplied names) in the K2HR3 tenant of the project:

* resource ``k2hdkc-<id>``: the INI template + every cluster-wide key;
  ``k2hdkc-<id>/server`` and ``/slave``: empty data, ``chmpx-mode`` key;
* policy ``k2hdkc-<id>``: allow read on the two child resources;
* role ``k2hdkc-<id>`` (holds the policy), ``/server`` and ``/slave``
  (inherit it; their hosts are the cluster's nodes);
* role tokens for ``/server`` and ``/slave`` (what a guest reads with).

Every write is a K2HR3 upsert, so ``provision`` can simply be run again
after a crash; ``teardown`` revokes tokens first, deletes children first,
treats "already gone" as done and then checks through the API what is
left, so it also cleans up a half-provisioned or hand-edited cluster
(doc/k2hr3-layout.md §4).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
import dataclasses
import datetime
import functools
import re
from typing import Any

from oslo_log import log as logging

from trove_k2hdkc.k2hr3 import errors
from trove_k2hdkc.k2hr3 import models
from trove_k2hdkc.k2hr3 import template
from trove_k2hdkc.k2hr3.client import K2hr3Client
from trove_k2hdkc.k2hr3.settings import ClusterSettings

LOG = logging.getLogger(__name__)

SERVER = 'server'
SLAVE = 'slave'
KINDS = (SERVER, SLAVE)
NAME_PREFIX = 'k2hdkc-'
# The K2HR3 "extra" of every member this plugin registers (and of the
# guest's self-registration). Why this value (doc/k2hr3-layout.md §2):
# K2HR3 2.0.3 matches a DELETE that names a cuk only against
# members whose extra is openstack-auto-v1 or absent, so any other extra
# makes removal a silent no-op; and it hides any other extra in host
# strings and templates anyway. The cuk is the Trove instance id, not the
# Nova server id, so K2HR3's notification listener (which drops members of
# deleted Nova servers by that id) never removes a ring member behind the
# ring procedure's back.
MEMBER_EXTRA = 'openstack-auto-v1'
# Node identity (decided): host = IP, port 0, cuk = tag = instance id.
MEMBER_PORT = 0

_UUID_RE = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-'
                      r'[0-9a-f]{12}')


def check_cluster_id(cluster_id: str) -> str:
    """A Trove cluster id: a canonical UUID, returned lower-cased."""
    value = cluster_id.lower() if isinstance(cluster_id, str) else ''
    if not _UUID_RE.fullmatch(value):
        raise errors.K2hr3ValueError('cluster id must be a UUID')
    return value


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise errors.K2hr3ValueError('member kind must be server or slave')
    return kind


@dataclasses.dataclass(frozen=True)
class ClusterNames:
    """Names and YRNs of one cluster's objects."""

    tenant: str
    cluster_id: str

    def __post_init__(self) -> None:
        models.check_tenant(self.tenant)
        object.__setattr__(self, 'cluster_id',
                           check_cluster_id(self.cluster_id))

    @property
    def name(self) -> str:
        return NAME_PREFIX + self.cluster_id

    def child(self, kind: str) -> str:
        return '%s/%s' % (self.name, _check_kind(kind))

    @property
    def policy_yrn(self) -> models.Yrn:
        return models.Yrn(self.tenant, 'policy', self.name)

    def role_yrn(self, kind: str | None = None) -> models.Yrn:
        return models.Yrn(self.tenant, 'role',
                          self.child(kind) if kind else self.name)

    def resource_yrn(self, kind: str | None = None) -> models.Yrn:
        return models.Yrn(self.tenant, 'resource',
                          self.child(kind) if kind else self.name)


# Parent resource key -> ``ClusterSettings`` field: the ring-wide
# parameters recorded at create and read back by every later operation
# (doc/k2hr3-layout.md §1).
RECORDED_KEYS = {
    'chmpx-server-port': 'server_port',
    'chmpx-server-ctlport': 'server_ctlport',
    'chmpx-slave-ctlport': 'slave_ctlport',
    'chmpx-replica': 'replica',
    'chmpx-max-chmpx': 'max_chmpx',
    'chmpx-max-mq-server': 'max_mq_server',
    'chmpx-max-mq-client': 'max_mq_client',
    'chmpx-mq-per-attach': 'mq_per_attach',
    'chmpx-max-q-per-server-mq': 'max_q_per_server_mq',
    'chmpx-max-q-per-client-mq': 'max_q_per_client_mq',
    'chmpx-max-mq-per-client': 'max_mq_per_client',
    'k2hdkc-k2hfile': 'k2hfile',
    'k2hdkc-mask-bits': 'mask_bits',
    'k2hdkc-cmask-bits': 'cmask_bits',
    'k2hdkc-max-elements': 'max_elements',
    'k2hdkc-page-size': 'page_size',
}
_GROUP_KEY = 'cluster-name'
_OFFSET_KEY = 'chmpx-server-ctlport-offset'


def parent_keys(names: ClusterNames,
                settings: ClusterSettings) -> dict[str, Any]:
    """Keys of the parent resource; the template reads them by name."""
    keys: dict[str, Any] = {_GROUP_KEY: names.name,
                            _OFFSET_KEY: settings.server_ctlport_offset}
    keys.update((key, getattr(settings, field))
                 for key, field in RECORDED_KEYS.items())
    return keys


def recorded_settings(names: ClusterNames, keys: Mapping[str, Any],
                      base: ClusterSettings) -> ClusterSettings:
    """The settings ``keys`` (read back from the parent resource) record.

    The project's user can rewrite these keys with their own token, so
    each is checked for presence and type here and for range by
    ``ClusterSettings``; the group and the control-port offset must
    agree with the cluster id and the ports. Not recorded, so taken from
    ``base`` (the current configuration): the role token lifetime, a
    credential policy rather than a ring parameter. ``max_members``
    becomes what the recorded MAXCHMPX can hold.
    """
    def refuse(why: str) -> errors.K2hr3ValueError:
        return errors.K2hr3ValueError(
            'the ring parameters recorded in K2HR3 resource %s are not '
            'usable: %s' % (names.name, why))

    if keys.get(_GROUP_KEY) != names.name:
        raise refuse('%s is not %s' % (_GROUP_KEY, names.name))
    values: dict[str, Any] = {}
    for key, field in RECORDED_KEYS.items():
        value = keys.get(key)
        want = str if field == 'k2hfile' else int
        if type(value) is not want:     # bool is no int here
            raise refuse('%s is %s, not %s' % (
                key, 'missing' if value is None else type(value).__name__,
                'a string' if want is str else 'an integer'))
        values[field] = value
    try:
        got = ClusterSettings(
            max_members=values['max_chmpx'] - 2,
            role_token_lifetime=base.role_token_lifetime, **values)
    except errors.K2hr3ValueError as exc:
        raise refuse(str(exc)) from None
    if keys.get(_OFFSET_KEY) != got.server_ctlport_offset:
        raise refuse('%s does not match the ports' % _OFFSET_KEY)
    return got


def child_keys(kind: str) -> dict[str, Any]:
    """Keys of ``/server`` or ``/slave``; the package keys stay empty
    (the guest image has everything; k2hr3-init must not install)."""
    return {'chmpx-mode': _check_kind(kind).upper(),
            'k2hr3-init-packages': '',
            'k2hr3-init-packagecloud-packages': '',
            'k2hr3-init-systemd-packages': ''}


@dataclasses.dataclass(frozen=True)
class Step:
    """One provisioning call, named for logs and tests."""

    name: str
    run: Callable[[], None] = dataclasses.field(repr=False, compare=False)


@dataclasses.dataclass(frozen=True)
class ClusterTokens:
    server: models.RoleToken
    slave: models.RoleToken

    def for_kind(self, kind: str) -> models.RoleToken:
        return self.server if _check_kind(kind) == SERVER else self.slave


class ClusterK2hr3:
    """Provision, grow/shrink and delete one cluster's K2HR3 objects."""

    def __init__(self, client: K2hr3Client, user_token: models.UserToken,
                 cluster_id: str, settings: ClusterSettings, *,
                 now: Callable[[], datetime.datetime] | None = None) -> None:
        self.client = client
        self._token = user_token
        self.names = ClusterNames(user_token.tenant, cluster_id)
        self.settings = settings
        self._now = now or (lambda: datetime.datetime.now(datetime.UTC))

    def __repr__(self) -> str:
        return '<ClusterK2hr3 %s/%s>' % (self.names.tenant, self.names.name)

    # -- provisioning ------------------------------------------------------

    def provision_steps(self) -> list[Step]:
        """Ordered upserts: resources, policy, then roles (a role may only
        name a policy that exists)."""
        c, t, n = self.client, self._token, self.names
        data = template.resource_data(n.tenant, n.name)
        keys = parent_keys(n, self.settings)
        steps = [Step('resource ' + n.name, lambda: c.put_resource(
            t, n.name, data=data, keys=keys, alias=()))]
        for kind in KINDS:
            steps.append(Step('resource ' + n.child(kind), functools.partial(
                c.put_resource, t, n.child(kind), data='',
                keys=child_keys(kind), alias=())))
        steps.append(Step('policy ' + n.name, lambda: c.put_policy(
            t, n.name, [n.resource_yrn(k) for k in KINDS])))
        steps.append(Step('role ' + n.name, lambda: c.put_role(
            t, n.name, policies=[n.policy_yrn])))
        for kind in KINDS:
            steps.append(Step('role ' + n.child(kind), functools.partial(
                c.put_role, t, n.child(kind))))
        return steps

    def recorded_settings(self) -> ClusterSettings:
        """The ring-wide parameters this cluster was created with, read
        back from its parent resource and validated (``recorded_settings``
        above); every operation after create uses these, never the
        current configuration's. The template beside them must be the
        product's own (``template.edits``), as the record is only as good
        as what renders it."""
        resource = self.client.get_resource(self._token, self.names.name)
        edited = template.edits(self.names.tenant, self.names.name,
                                resource.string)
        if edited:
            raise errors.K2hr3ValueError(
                'the INI template in K2HR3 resource %s is not the one Trove '
                'wrote (%s): the project\'s user changed it, and no '
                'operation uses or rewrites an edited template; put the '
                'original back' % (self.names.name, ', '.join(edited)))
        return recorded_settings(self.names, resource.keys, self.settings)

    def provision(self, settings: ClusterSettings | None = None
                  ) -> ClusterTokens:
        """Create or complete every object; returns usable role tokens.
        ``settings`` (default: the constructor's) become the parent
        resource's keys: at create the configuration's, later the
        recorded ones, so a re-run never changes a live ring."""
        if settings is not None:
            self.settings = settings
        for step in self.provision_steps():
            LOG.debug('K2HR3 provision %s', step.name)
            step.run()
        tokens = self.ensure_tokens()
        LOG.info('K2HR3 objects of cluster %s are in place',
                 self.names.cluster_id)
        return tokens

    # -- role tokens -----------------------------------------------------

    def _min_remaining(self) -> datetime.timedelta:
        day = datetime.timedelta(days=1)
        life = self.settings.role_token_lifetime
        return min(day, datetime.timedelta(seconds=life) / 2) if life else day

    def _reusable(self, kind: str) -> models.RoleToken | None:
        """The longest-lived token the control plane issued (not bound to
        a guest IP) that is still good for a while."""
        limit = self._now() + self._min_remaining()
        best = None
        for tok in self._list_tokens(self.names.child(kind)):
            if tok.ip or (tok.expire is not None and tok.expire < limit):
                continue
            if best is None or (tok.expire or limit) > (best.expire or limit):
                best = tok
        return best

    def ensure_tokens(self) -> ClusterTokens:
        """Reuse a live role token per role, issue one where none is."""
        got = {}
        for kind in KINDS:
            got[kind] = self._reusable(kind) or self._issue(kind)
        return ClusterTokens(server=got[SERVER], slave=got[SLAVE])

    def issue_tokens(self) -> ClusterTokens:
        """Always mint fresh tokens (refresh); old ones stay valid until
        ``revoke_other_tokens``."""
        return ClusterTokens(server=self._issue(SERVER),
                             slave=self._issue(SLAVE))

    def revoke_other_tokens(self, keep: ClusterTokens) -> int:
        """Revoke every token of the two roles except ``keep``'s."""
        kept = {keep.server.token, keep.slave.token}
        count = 0
        for kind in KINDS:
            for tok in self._list_tokens(self.names.child(kind)):
                if tok.token not in kept and self._revoke(tok):
                    count += 1
        return count

    def _revoke(self, tok: models.RoleToken) -> bool:
        """Revoke one token; False when K2HR3 says it is already gone:
        403 for a token that expired or whose role was deleted (the role
        takes its tokens with it), 404 from older servers."""
        try:
            self.client.revoke_role_token(self._token, tok)
        except errors.K2hr3HTTPError as exc:
            if exc.status in (403, 404):
                return False
            raise
        return True

    def _issue(self, kind: str) -> models.RoleToken:
        return self.client.issue_role_token(
            self._token, self.names.child(kind),
            expire=self.settings.role_token_lifetime)

    def _list_tokens(self, role: str) -> list[models.RoleToken]:
        try:
            return self.client.list_role_tokens(self._token, role)
        except errors.K2hr3HTTPError as exc:
            if exc.status == 404:
                return []
            raise

    # -- members ---------------------------------------------------------

    def add_member(self, kind: str, host: str, cuk: str, *,
                   tag: str | None = None, port: int = 0) -> models.RoleHost:
        """Register a node (``cuk`` = Trove instance id, not the Nova
        server id: doc/k2hr3-layout.md §2; ``tag`` seeds its CHMPX id and
        defaults to ``cuk``). Re-adding is a no-op."""
        member = models.RoleHost(
            host=models.check_host(host), port=models.check_port(port),
            cuk=models.check_field(cuk, 'cuk'), extra=MEMBER_EXTRA,
            tag=models.check_field(tag or cuk, 'tag'))
        self.client.add_role_host(self._token, self.names.child(kind),
                                  member)
        return member

    def remove_member(self, kind: str, host: str, cuk: str, *,
                      port: int = 0) -> None:
        """Remove a node and check that it is gone.

        K2HR3 answers 204 even when a DELETE naming ``cuk`` matched
        nothing, which it does for a member whose extra is not
        ``MEMBER_EXTRA`` (one registered before that value was chosen).
        Such a member is removed by host and port alone, which removes
        every member there, so only when it is the only one.
        """
        role = self.names.child(kind)
        host, cuk = models.check_host(host), models.check_field(cuk, 'cuk')
        self.client.remove_role_host(self._token, role, host, port, cuk)
        there = self._members_at(role, host, port)
        if all(m.cuk != cuk for m in there):
            return
        if any(m.cuk != cuk for m in there):
            raise errors.K2hr3LeftBehindError(
                ['member %s (cuk %s) of role %s: K2HR3 does not match it by '
                 'cuk and another member shares its address'
                 % (host, cuk, role)])
        self.client.remove_role_host(self._token, role, host, port)
        if self._members_at(role, host, port):
            raise errors.K2hr3LeftBehindError(
                ['member %s (cuk %s) of role %s' % (host, cuk, role)])

    def _members_at(self, role: str, host: str,
                    port: int) -> list[models.RoleHost]:
        return [m for m in self.client.get_role(self._token, role).hosts
                if m.host == host and m.port == port]

    def members(self, kind: str) -> tuple[models.RoleHost, ...]:
        return self.client.get_role(self._token,
                                    self.names.child(kind)).hosts

    # -- teardown --------------------------------------------------------

    def teardown(self) -> None:
        """Delete everything; safe to re-run, whatever is already gone.

        Tokens are revoked first, while their roles exist (K2HR3 deletes
        a role's tokens with it and then answers 403 on revoke, 404 on
        listing). A delete K2HR3 refuses does not stop the others; the
        end state is then read back through the API and only objects that
        really remain raise ``K2hr3LeftBehindError``.
        """
        c, t, n = self.client, self._token, self.names
        roles = [n.child(SERVER), n.child(SLAVE), n.name]
        refused: list[errors.K2hr3Error] = []

        def attempt(call: Callable[[], Any], default: Any = None) -> Any:
            # Also a member string the project's user wrote that our model
            # refuses (K2HR3 keeps ports like 70000): deleting the role
            # still removes it, and the end check tells what remains.
            try:
                return call()
            except errors.K2hr3Error as exc:
                refused.append(exc)
                return default

        for role in roles:
            for tok in attempt(functools.partial(self._list_tokens, role),
                               ()):
                attempt(functools.partial(self._revoke, tok))
        for role in roles:
            info = attempt(functools.partial(c.get_role, t, role))
            for member in info.hosts if info else ():
                attempt(functools.partial(c.remove_role_host, t, role,
                                          member.host, member.port,
                                          member.cuk or None))
        for role in roles:
            attempt(functools.partial(c.delete_role, t, role))
        attempt(functools.partial(c.delete_policy, t, n.name))
        for resource in (n.child(SERVER), n.child(SLAVE), n.name):
            attempt(functools.partial(c.delete_resource, t, resource))
        left = self.leftovers()
        if left:
            raise errors.K2hr3LeftBehindError(
                left, transient=any(map(errors.is_transient, refused)))
        for exc in refused:
            LOG.warning('K2HR3 refused a teardown call of cluster %s, but '
                        'nothing is left: %s', n.cluster_id, exc)
        LOG.info('K2HR3 objects of cluster %s are deleted', n.cluster_id)

    def leftovers(self) -> list[str]:
        """The cluster's objects K2HR3 still holds, as the real server
        tells: a role's token list is 404 once the role is gone (a role
        GET is 200 either way), a policy GET 400 and a resource GET 404."""
        c, t, n = self.client, self._token, self.names
        left = []
        for role in (n.child(SERVER), n.child(SLAVE), n.name):
            tokens = _unless_gone(functools.partial(c.list_role_tokens, t,
                                                    role))
            if tokens is not None:
                try:
                    members = str(len(c.get_role(t, role).hosts))
                except errors.K2hr3Error:   # a member our model refuses
                    members = 'unreadable'
                left.append('role %s (%s members, %d tokens)'
                            % (role, members, len(tokens)))
        if _unless_gone(lambda: c.get_policy(t, n.name)) is not None:
            left.append('policy ' + n.name)
        for resource in (n.child(SERVER), n.child(SLAVE), n.name):
            if _unless_gone(functools.partial(c.get_resource, t, resource)
                            ) is not None:
                left.append('resource ' + resource)
        return left


def _unless_gone(read: Callable[[], Any]) -> Any:
    """``read()``, or None when K2HR3 answers that the object is missing
    (400 for a policy, 404 otherwise)."""
    try:
        return read()
    except errors.K2hr3HTTPError as exc:
        if exc.status in (400, 404):
            return None
        raise
