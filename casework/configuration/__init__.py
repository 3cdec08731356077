"""Configurator services: process drafts, review and change control, import/export, council settings.

Routes in ``admin/`` call these; they never commit (the route commits once per use case).
"""
