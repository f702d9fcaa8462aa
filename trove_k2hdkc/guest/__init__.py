"""The guest-agent side of trove-k2hdkc.

* ``manager.Manager``: Trove's datastore manager (thin RPC surface).
* ``service.K2hdkcApp``: the node operations the RPCs delegate to.
* ``status.K2hdkcStatus``: Trove status from the runtime + control port.
* ``node_config``: fetch, validate and atomically install the INI.
* ``access``: the K2HR3 access of this node (token file, 0600).
* ``runtime``: how chmpx + k2hdkc run (``process`` or ``docker``).
* ``replication.K2hdkcReplication``: refuses Trove replicas.
"""
