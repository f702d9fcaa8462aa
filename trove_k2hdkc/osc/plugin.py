"""OpenStackClient plugin module (entry point ``openstack.cli.extension``
``k2hdkc``): commands ``openstack database cluster backup ...`` in the
command group ``openstack.k2hdkc.v1``.

The commands talk to Trove's API (the ``trove.api.extensions`` resource
``k2hdkc-backup-sets``) through the Database client python-troveclient's
own plugin already builds, so endpoint, auth and TLS are exactly the
stock ``openstack database`` ones.
"""

from __future__ import annotations

from typing import Any

DEFAULT_API_VERSION = '1'
API_VERSION_OPTION = 'os_k2hdkc_api_version'
API_NAME = 'k2hdkc'
API_VERSIONS = {'1': 'trove_k2hdkc.osc.plugin'}


def make_client(instance: Any) -> Any:
    """The Database (Trove) client of the same session."""
    return instance.database


def build_option_parser(parser: Any) -> Any:
    parser.add_argument(
        '--os-k2hdkc-api-version', metavar='<version>',
        default=DEFAULT_API_VERSION,
        help='trove-k2hdkc CLI plugin API version, default=%s'
             % DEFAULT_API_VERSION)
    return parser
