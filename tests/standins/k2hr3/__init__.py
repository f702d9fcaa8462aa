"""K2HR3 API 2.0.3 stand-in (HTTP server + k2hr3template engine).

Interface: ``K2hr3StandIn`` (``server.py``), the ``k2hr3_standin``
fixture in ``fixture.py`` and ``python -m tests.standins.k2hr3``.
Behaviour follows the captures in ``tests/data/reference/k2hr3`` (checked
by tests/contract).  Stdlib only.
"""

from __future__ import annotations

from tests.standins.k2hr3.server import K2hr3StandIn

__all__ = ['K2hr3StandIn']
