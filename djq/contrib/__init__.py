"""Running the djq runtime inside another server process (embedded mode)."""
