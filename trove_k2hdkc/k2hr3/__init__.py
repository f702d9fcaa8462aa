"""K2HR3 REST client and the K2HR3 object layout of a K2HDKC cluster."""

from __future__ import annotations

from trove_k2hdkc.k2hr3.client import K2hr3Client
from trove_k2hdkc.k2hr3.errors import K2hr3ConnectionError
from trove_k2hdkc.k2hr3.errors import K2hr3Error
from trove_k2hdkc.k2hr3.errors import K2hr3HTTPError
from trove_k2hdkc.k2hr3.errors import K2hr3LeftBehindError
from trove_k2hdkc.k2hr3.errors import K2hr3ProtocolError
from trove_k2hdkc.k2hr3.errors import K2hr3ValueError
from trove_k2hdkc.k2hr3.factory import build_client
from trove_k2hdkc.k2hr3.factory import client_from_conf
from trove_k2hdkc.k2hr3.layout import ClusterK2hr3
from trove_k2hdkc.k2hr3.layout import ClusterNames
from trove_k2hdkc.k2hr3.layout import ClusterTokens
from trove_k2hdkc.k2hr3.models import Policy
from trove_k2hdkc.k2hr3.models import Resource
from trove_k2hdkc.k2hr3.models import RoleHost
from trove_k2hdkc.k2hr3.models import RoleInfo
from trove_k2hdkc.k2hr3.models import RoleToken
from trove_k2hdkc.k2hr3.models import UserToken
from trove_k2hdkc.k2hr3.models import Yrn
from trove_k2hdkc.k2hr3.settings import ClusterSettings
from trove_k2hdkc.k2hr3.settings import cluster_settings_from_conf
from trove_k2hdkc.k2hr3.settings import guest_api_url_from_conf
from trove_k2hdkc.k2hr3.template import SELF_INSTANCE_ID
from trove_k2hdkc.k2hr3.transport import ClientSettings

__all__ = [
    'ClientSettings', 'ClusterK2hr3', 'ClusterNames', 'ClusterSettings',
    'ClusterTokens', 'K2hr3Client', 'K2hr3ConnectionError', 'K2hr3Error',
    'K2hr3HTTPError', 'K2hr3LeftBehindError', 'K2hr3ProtocolError',
    'K2hr3ValueError', 'Policy',
    'Resource', 'RoleHost', 'RoleInfo', 'RoleToken', 'SELF_INSTANCE_ID',
    'UserToken', 'Yrn', 'build_client', 'client_from_conf',
    'cluster_settings_from_conf', 'guest_api_url_from_conf',
]
