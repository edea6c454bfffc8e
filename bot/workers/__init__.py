"""Model work on Celery over Redis: the payloads (pure), the Celery app, and the `newsbot worker` process. Imported
only where NEWSBOT_BROKER_URL is set or a worker starts: `newsbot run` without a broker never loads Celery."""
