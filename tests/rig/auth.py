"""Keystone stand-in paste filter for the rig's trove-api.

Accepts exactly one token (the one the rig hands the ``openstack`` CLI via
``--os-auth-type admin_token``) and sets the headers keystonemiddleware
would, with the admin role, for the rig project. Any other token is
refused with 401 so a mis-wired client fails loudly.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
import hmac
from typing import Any


class RigAuth:
    def __init__(self, app: Callable, conf: dict[str, str]):
        self.app = app
        self.token = conf['token']
        self.headers = {
            'HTTP_X_IDENTITY_STATUS': 'Confirmed',
            'HTTP_X_PROJECT_ID': conf['project_id'],
            'HTTP_X_TENANT_ID': conf['project_id'],
            'HTTP_X_PROJECT_NAME': conf.get('project_name',
                                            conf['project_id']),
            'HTTP_X_USER_ID': conf['user_id'],
            'HTTP_X_USER_NAME': conf['user_id'],
            'HTTP_X_TENANT_NAME': conf.get('project_name',
                                           conf['project_id']),
            'HTTP_X_ROLES': 'admin,member,reader',
            'HTTP_X_ROLE': 'admin,member,reader',
            'HTTP_X_USER_DOMAIN_NAME': 'Default',
            'HTTP_X_PROJECT_DOMAIN_NAME': 'Default',
        }

    def __call__(self, env: dict[str, Any],
                 start_response: Callable) -> Iterable[bytes]:
        token = env.get('HTTP_X_AUTH_TOKEN', '')
        if not hmac.compare_digest(token.encode(), self.token.encode()):
            start_response('401 Unauthorized',
                           [('Content-Type', 'application/json')])
            return [b'{"unauthorized": {"code": 401, '
                    b'"message": "invalid rig token"}}']
        env.update(self.headers)
        return self.app(env, start_response)


def filter_factory(global_conf: dict[str, str],
                   **local_conf: str) -> Callable:
    conf = dict(global_conf, **local_conf)
    return lambda app: RigAuth(app, conf)

