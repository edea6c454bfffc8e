"""`newsbot worker`: a Celery worker that runs model jobs (enrich, translate) on this box's models and answers with
plain data. It never opens the SQLite file: only the main box writes. A job for other models or another payload
version is refused (answered, not run), so a fleet upgraded halfway never sends back the wrong models' output."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from celery import Celery
from celery.exceptions import Reject

from bot.workers.app import FAILED_KEY, REFUSED_KEY, WORKER_KEY, WORKER_TTL, make_celery, redis_client
from bot.workers.payloads import (
    ENRICH_TASK,
    QUEUES,
    TRANSLATE_TASK,
    Answer,
    PayloadError,
    answer_payload,
    articles_of,
    checked,
    models_identity,
)
from summarizer.engine import make_engine, process_batch
from summarizer.types import Engine, EngineConfig

log = logging.getLogger(__name__)

REFUSAL_PAUSE = 1.0  # seconds a refused job is held before it goes back to the queue


class Runtime:
    """The engines of one worker process, one per slot (thread): a slot never waits on another's model lock."""

    def __init__(self, config: EngineConfig, name: str) -> None:
        self.config = config
        self.identity = models_identity(config)
        self.name = name
        self._local = threading.local()
        self.on_refusal: Callable[[str], None] | None = None

    def engine(self) -> Engine:
        engine: Engine | None = getattr(self._local, "engine", None)
        if engine is None:
            engine = self._local.engine = make_engine(self.config)
        return engine

    def enrich(self, payload: Any) -> dict[str, Any]:
        job = self._checked(payload)
        results = process_batch(self.engine(), articles_of(job))
        return answer_payload(Answer(self.name, self.config.device, results=results))

    def translate(self, payload: Any) -> dict[str, Any]:
        job = self._checked(payload)
        try:
            translation = self.engine().translate(job["texts"], job["src"], job["tgt"])
        except Exception as e:  # the main box raises it to the reader's stage, as the model thread would
            return answer_payload(Answer(self.name, self.config.device, error=f"{type(e).__name__}: {e}"))
        return answer_payload(Answer(self.name, self.config.device, translation=translation))

    def _checked(self, payload: Any) -> dict[str, Any]:
        """The job if this worker may run it; else it goes back to the queue for a worker with the right models
        (after a pause, so that a lone wrong worker does not spin on it), counted and said in /health."""
        try:
            return checked(payload, self.identity)
        except PayloadError as e:
            log.warning("job refused: %s", e)
            if self.on_refusal is not None:
                self.on_refusal(f"{self.name}: {e}")
            time.sleep(REFUSAL_PAUSE)
            raise Reject(str(e), requeue=True) from e


def register_tasks(app: Celery, runtime: Runtime) -> None:
    # Never retried by Celery: the main box sends a job again when it has no answer.
    app.task(name=ENRICH_TASK, acks_late=True)(runtime.enrich)
    app.task(name=TRANSLATE_TASK, acks_late=True)(runtime.translate)


def worker_config(config: EngineConfig, concurrency: int) -> EngineConfig:
    """Each slot's engine gets its share of the cores unless NEWSBOT_TORCH_THREADS says otherwise."""
    if config.torch_threads is None and concurrency > 1:
        return replace(config, torch_threads=max(1, (os.cpu_count() or 1) // concurrency))
    return config


def announce(app: Celery, runtime: Runtime, concurrency: int, stop: threading.Event) -> None:
    """This worker's sign of life in Redis every WORKER_TTL / 4 seconds (for /health), until `stop`; Redis being
    away is waited out."""
    key = WORKER_KEY + runtime.name
    while not stop.is_set():
        seen = {
            "name": runtime.name,
            "device": runtime.config.device,
            "concurrency": concurrency,
            "models": runtime.identity,
            "pid": os.getpid(),
            "seen_at": time.time(),
        }
        try:
            redis_client(app).set(key, json.dumps(seen), ex=WORKER_TTL)
        except Exception as e:  # Redis restarting: the next beat tries again
            log.info("worker heartbeat failed: %s", e)
        stop.wait(WORKER_TTL / 4)


def run_worker(broker_url: str, config: EngineConfig, *, concurrency: int, job_timeout: int, name: str | None) -> None:
    """Serve the queues (interactive first) until SIGTERM/SIGINT; blocks."""
    name = name or f"newsbot@{socket.gethostname()}-{os.getpid()}"
    runtime = Runtime(worker_config(config, concurrency), name)
    app = make_celery(broker_url, job_timeout=job_timeout)
    register_tasks(app, runtime)

    def refused(reason: str) -> None:
        with contextlib.suppress(Exception):
            redis_client(app).set(REFUSED_KEY, json.dumps({"reason": reason, "at": time.time()}), ex=3600)

    runtime.on_refusal = refused
    stop = threading.Event()
    beat = threading.Thread(target=announce, args=(app, runtime, concurrency, stop), daemon=True)
    beat.start()
    log.warning("worker %s: %d slot(s) on %s, models %s", name, concurrency, config.device, runtime.identity)
    try:
        app.worker_main(
            [
                "worker",
                f"--hostname={name}",
                "--pool=threads" if concurrency > 1 else "--pool=solo",
                f"--concurrency={concurrency}",
                f"--queues={','.join(QUEUES)}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=WARNING",
            ]
        )
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            redis_client(app).delete(WORKER_KEY + name)


__all__ = ["FAILED_KEY", "Runtime", "run_worker"]
