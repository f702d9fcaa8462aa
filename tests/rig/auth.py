"""Keystone stand-in paste filter for the rig's trove-api.

Accepts the rig's token (the one the rig hands the ``openstack`` CLI via
``--os-auth-type admin_token``) and sets the headers keystonemiddleware
would, with the admin role, for the rig project; and the token of an
admin of another project (``admin_token``), for that project. Any other
token is refused with 401 so a mis-wired client fails loudly.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
import hmac
from typing import Any


class RigAuth:
    def __init__(self, app: Callable, conf: dict[str, str]):
        self.app = app
        # token -> headers: the rig user in the rig project, and (when
        # configured) an admin of another project.
        self.identities = [(conf['token'], _headers(
            conf['project_id'], conf.get('project_name', conf['project_id']),
            conf['user_id']))]
        if conf.get('admin_token'):
            project = conf['admin_project_id']
            self.identities.append((conf['admin_token'], _headers(
                project, project, project + '-admin')))

    def __call__(self, env: dict[str, Any],
                 start_response: Callable) -> Iterable[bytes]:
        token = env.get('HTTP_X_AUTH_TOKEN', '').encode()
        for known, headers in self.identities:
            if hmac.compare_digest(token, known.encode()):
                env.update(headers)
                return self.app(env, start_response)
        start_response('401 Unauthorized',
                       [('Content-Type', 'application/json')])
        return [b'{"unauthorized": {"code": 401, '
                b'"message": "invalid rig token"}}']


def _headers(project_id: str, project_name: str,
             user_id: str) -> dict[str, str]:
    return {
        'HTTP_X_IDENTITY_STATUS': 'Confirmed',
        'HTTP_X_PROJECT_ID': project_id,
        'HTTP_X_TENANT_ID': project_id,
        'HTTP_X_PROJECT_NAME': project_name,
        'HTTP_X_USER_ID': user_id,
        'HTTP_X_USER_NAME': user_id,
        'HTTP_X_TENANT_NAME': project_name,
        'HTTP_X_ROLES': 'admin,member,reader',
        'HTTP_X_ROLE': 'admin,member,reader',
        'HTTP_X_USER_DOMAIN_NAME': 'Default',
        'HTTP_X_PROJECT_DOMAIN_NAME': 'Default',
    }


def filter_factory(global_conf: dict[str, str],
                   **local_conf: str) -> Callable:
    conf = dict(global_conf, **local_conf)
    return lambda app: RigAuth(app, conf)

