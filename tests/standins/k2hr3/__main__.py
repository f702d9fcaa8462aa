"""``python -m tests.standins.k2hr3``: run the stand-in until SIGINT/TERM.

``--keystone-token TOKEN=USER:TENANT1,TENANT2`` may be repeated;
``--keystone-url URL`` checks other Keystone tokens at a real Keystone.
"""

from __future__ import annotations

import argparse
import signal
import ssl
import sys
import threading

from tests.standins.k2hr3.server import K2hr3StandIn


def _keystone(text: str) -> tuple[str, str, list[str]]:
    token, sep, rest = text.partition('=')
    user, sep2, tenants = rest.partition(':')
    if not (sep and sep2 and token and user):
        raise argparse.ArgumentTypeError(
            'expected TOKEN=USER:TENANT1,TENANT2')
    return token, user, [t for t in tenants.split(',') if t]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='python -m tests.standins.k2hr3')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=18080)
    parser.add_argument('--tls-cert')
    parser.add_argument('--tls-key')
    parser.add_argument('--keystone-token', action='append', default=[],
                        type=_keystone)
    parser.add_argument('--keystone-url',
                        help='a Keystone /v3 URL: check other U= tokens '
                             'there, as K2HR3 with openstackapiv3 does')
    args = parser.parse_args(argv)
    context = None
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
    standin = K2hr3StandIn(args.host, args.port, context)
    if args.keystone_url:
        standin.use_keystone(args.keystone_url)
    for token, user, tenants in args.keystone_token:
        standin.add_keystone_token(token, user, tenants)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    standin.start()
    print('K2HR3 stand-in listening on %s' % standin.url, flush=True)
    stopping.wait()
    standin.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
