"""Horizon enabled files shipped by the plugin (doc/dashboard.md)."""
