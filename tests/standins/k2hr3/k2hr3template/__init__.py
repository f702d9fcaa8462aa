"""The subset of K2HR3's "k2hr3template" language the DBaaS relies on.

Anything outside that subset raises :class:`TemplateError`, which the API
maps to the real 404 ``Could not load resource for template engine``:
a template the stand-in cannot render must fail loudly in tests instead
of rendering differently from the real K2HR3.
"""

from __future__ import annotations

from tests.standins.k2hr3.k2hr3template.errors import TemplateError
from tests.standins.k2hr3.k2hr3template.render import render

__all__ = ['TemplateError', 'render']
