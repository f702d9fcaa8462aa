"""K2HR3 API 2.0.3 stand-in (HTTP server + k2hr3template engine).

Interface: ``/work/notes/k2hr3_standin_iface.md`` (K2hr3StandIn, the
``k2hr3_standin`` fixture in ``fixture.py``, ``python -m
tests.standins.k2hr3``).  Behaviour follows the captures in
``shared/reference/k2hr3`` (checked by tests/contract).  Stdlib only.
"""

from __future__ import annotations

from tests.standins.k2hr3.server import K2hr3StandIn

__all__ = ['K2hr3StandIn']
