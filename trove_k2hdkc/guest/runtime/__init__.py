"""How a node's chmpx + k2hdkc run: ``process`` (supervised by the agent)
or ``docker`` (the ``database`` container of Trove guest images)."""
