"""Deflect's wiring: settings, storage, translations and the `deflect` command line."""
