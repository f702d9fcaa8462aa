"""Console scripts (pbr entry points in setup.cfg)."""
