"""WSGI entry point for gunicorn: `gunicorn 'casework.wsgi:app'`."""

from casework.app import create_app

app = create_app()
