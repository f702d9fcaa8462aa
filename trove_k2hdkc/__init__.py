"""trove-k2hdkc: K2HDKC as a datastore of OpenStack Trove, as a plugin.

Sub-packages follow Trove's three sides: ``cluster`` (API, taskmanager and
guest RPC strategies), ``guest`` (the datastore manager in each instance),
with the clients they share: ``k2hr3`` (configuration service) and ``chmpx``
(control port of the ring).
"""
