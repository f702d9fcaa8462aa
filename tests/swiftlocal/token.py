"""Proxy filter: known X-Auth-Tokens, each for its accounts; 401 else.

Why: the tests' Swift has no Keystone; this stands where auth_token +
keystoneauth would decide, so a client sending a wrong token is refused
the way a real deployment refuses it, and a project's token reaches only
that project's account (``AUTH_<project id>``), as with keystoneauth.
A token for ``*`` reaches every account (keystoneauth's reseller admin).
``/info`` needs no token, as in Swift.

Config: ``tokens = <token>=<account>[|<account>...] ...`` (space
separated), or the older single ``token = <token>`` for any account.
"""

from __future__ import annotations

import hmac


def parse_tokens(local_conf: dict[str, str]) -> list[tuple[str, set[str]]]:
    known = []
    if local_conf.get('token'):
        known.append((local_conf['token'], {'*'}))
    for item in local_conf.get('tokens', '').split():
        token, _, accounts = item.partition('=')
        known.append((token, set(accounts.split('|'))))
    return known


def _account(path: str) -> str:
    parts = path.lstrip('/').split('/')
    return parts[1] if len(parts) > 1 else ''


def filter_factory(global_conf, **local_conf):
    known = parse_tokens(local_conf)

    def make(app):
        def middleware(environ, start_response):
            if environ.get('PATH_INFO') == '/info':
                return app(environ, start_response)
            given = environ.get('HTTP_X_AUTH_TOKEN', '').encode()
            account = _account(environ.get('PATH_INFO', ''))
            for token, accounts in known:
                if hmac.compare_digest(given, token.encode()) and (
                        '*' in accounts or account in accounts):
                    return app(environ, start_response)
            start_response('401 Unauthorized',
                           [('Content-Type', 'text/plain'),
                            ('Content-Length', '23')])
            return [b'Authentication failed\r\n']
        return middleware
    return make
