"""Drafts of task answers (the workspace's "Save as draft", check-answers and session-expiry recovery)."""
