"""Authentication (sessions, API tokens) and permissions."""
