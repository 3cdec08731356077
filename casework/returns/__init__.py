"""Statutory returns built from casework's own records and the workflow history (see docs/returns.md)."""
