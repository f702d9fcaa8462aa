"""``openstack`` CLI plugin of trove-k2hdkc (doc/backup.md §6)."""
