"""Cluster backup sets (doc/backup.md §6)."""
