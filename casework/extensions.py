"""Unbound extension objects, bound in create_app()."""

from casework.db import Database

database = Database()
