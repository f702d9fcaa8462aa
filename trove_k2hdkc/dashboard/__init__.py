"""K2HDKC in trove-dashboard without patching it (doc/dashboard.md).

A Django app that Horizon adds through the enabled file in ``enabled/``:
at ``ready()`` it makes trove-dashboard count K2HDKC as a cluster
datastore that can grow and shrink, fits the cluster forms to K2HDKC, and
its template shows each member's ring state on the cluster's overview.
Nothing here is imported by Trove's services.
"""
