"""The Celery application both sides share: Redis as broker and result store, late acknowledgement (a job whose
worker dies goes back to the queue), one job reserved per worker slot, queues consumed in priority order, and
reconnection for ever when Redis goes away. It defines no task: bot/workers/worker.py does, on the worker side."""

from __future__ import annotations

from typing import Any

from celery import Celery

from bot.workers.payloads import QUEUES

WORKER_KEY = "newsbot:worker:"  # + hostname: a worker's last sign of life, its device and slots (expires)
FAILED_KEY = "newsbot:jobs-failed"  # jobs that came back refused or failed, or never came back, since Redis began
REFUSED_KEY = "newsbot:job-refused"  # the last refusal: which worker, why (its models differ), when
WORKER_TTL = 60  # seconds a worker's sign of life is kept; it renews it every WORKER_TTL / 4


def make_celery(broker_url: str, *, job_timeout: int) -> Celery:
    app = Celery("newsbot", broker=broker_url, backend=broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_default_queue=QUEUES[1],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # Redis keeps a delivered, unacknowledged job aside; after this long it goes back to the queue for another
        # worker (the one that took it was killed). A job running longer than that would run twice: harmless (the
        # main box stores a result once), but slow, hence NEWSBOT_JOB_TIMEOUT well above a batch's time.
        broker_transport_options={"queue_order_strategy": "priority", "visibility_timeout": job_timeout},
        result_backend_transport_options={"visibility_timeout": job_timeout},
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        broker_channel_error_retry=True,
        result_backend_always_retry=True,  # a result finished while Redis restarts waits for it, not lost
        result_backend_max_retries=10_000,
        result_backend_base_sleep_between_retries_ms=200,
        result_backend_max_sleep_between_retries_ms=2_000,
        result_expires=max(3600, 2 * job_timeout),
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
        broker_heartbeat=0,
    )
    return app


def queue_for(priority: int) -> str:
    return QUEUES[min(max(0, int(priority)), len(QUEUES) - 1)]


def redis_client(app: Celery) -> Any:
    """The result store's redis-py client: workers' signs of life, counts, queue lengths."""
    return app.backend.client
