"""Flask plumbing shared by api/, workspace/ and admin/: request sessions, auth, CSRF, errors, headers."""
