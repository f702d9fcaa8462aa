"""Proxy filter: one accepted X-Auth-Token, 401 for any other.

Why: the tests' Swift has no Keystone; this stands where auth_token +
keystoneauth would decide, so a client sending a wrong token is refused
the way a real deployment refuses it.
"""

from __future__ import annotations

import hmac


def filter_factory(global_conf, **local_conf):
    token = local_conf['token']

    def make(app):
        def middleware(environ, start_response):
            given = environ.get('HTTP_X_AUTH_TOKEN', '')
            if hmac.compare_digest(given.encode(), token.encode()):
                return app(environ, start_response)
            start_response('401 Unauthorized',
                           [('Content-Type', 'text/plain'),
                            ('Content-Length', '23')])
            return [b'Authentication failed\r\n']
        return middleware
    return make
