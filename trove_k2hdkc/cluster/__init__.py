"""Trove cluster strategies for K2HDKC (API, taskmanager, guest RPC).

``procedures`` holds the ring procedures as pure code over a ``Fleet``;
``api``, ``taskmanager`` and ``guestagent`` are the thin Trove glue whose
class paths are named by ``[k2hdkc] *_strategy``.
"""
