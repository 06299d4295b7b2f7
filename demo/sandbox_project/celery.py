"""Celery app of the sandbox: tasks run eagerly (in process), as no broker runs here."""
from celery import Celery

app = Celery("sandbox")
app.config_from_object("django.conf:settings", namespace="CELERY")
