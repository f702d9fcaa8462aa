"""Data-plane stand-ins (chmpx, k2hdkc, k2hdkclinetool, k2hlinetool).

Test-only replacements for the AntPickax binaries, which cannot be
installed in CI.  ``bin/`` holds executables named like the real ones;
``harness`` starts rings of them for tests.  See ``README.md``.
"""
