"""Horizon enabled file: the Clusters panel, with K2HDKC in it.

Copy into ``openstack_dashboard/local/enabled/`` beside trove-dashboard's
own ``_17*`` files (doc/dashboard.md §2). trove-dashboard ships its
Clusters panel disabled (``_1740``); this file adds the same panel back
and installs ``trove_k2hdkc.dashboard``, whose ``ready()`` makes K2HDKC
cluster-capable there. Horizon imports this module while it loads its
settings, so it imports nothing of Django or trove-dashboard's views.
"""

PANEL = 'database_clusters'
PANEL_DASHBOARD = 'project'
PANEL_GROUP = 'database'
ADD_PANEL = 'trove_dashboard.content.database_clusters.panel.Clusters'
ADD_INSTALLED_APPS = ['trove_k2hdkc.dashboard']
