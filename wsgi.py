"""WSGI entry point: `flask --app wsgi ...` and `gunicorn wsgi:app`."""

from casework import create_app

app = create_app()
