"""Horizon's own test settings, with the dashboards loaded as an operator's
``local/enabled`` would load them: openstack_dashboard's files, then
trove-dashboard's ``_17*`` files, then the plugin's enabled file."""

from openstack_dashboard import enabled as dashboard_enabled
from openstack_dashboard.test.settings import *  # noqa: F403
from openstack_dashboard.utils import settings as settings_utils
from trove_dashboard import enabled as trove_enabled

from trove_k2hdkc.dashboard import enabled as k2hdkc_enabled

# Horizon's test settings applied openstack_dashboard's files already;
# apply them again together with the plugins, as one settings load does.
HORIZON_CONFIG['dashboards'] = ()  # noqa: F405
INSTALLED_APPS = list(INSTALLED_APPS)  # noqa: F405
settings_utils.update_dashboards(
    [dashboard_enabled, trove_enabled, k2hdkc_enabled],
    HORIZON_CONFIG, INSTALLED_APPS)  # noqa: F405
INSTALLED_APPS = list(dict.fromkeys(INSTALLED_APPS))
