"""Test-only stand-ins for programs this machine cannot run.

K2HDKC, CHMPX and the K2HR3 API server are not installable here, so tests run
against stand-ins that follow the real contracts captured in
``tests/data/reference`` (checked by ``tests/contract``). Production code
(``trove_k2hdkc``) must never import anything from this package.
"""
