"""The one error of the template engine."""

from __future__ import annotations


class TemplateError(Exception):
    """The template cannot be parsed or evaluated by this engine."""
