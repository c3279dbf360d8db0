"""Bundled data: the demo directory (fictional services in Chicago)."""
