"""Model work on `newsbot worker` processes through Celery on Redis (NEWSBOT_BROKER_URL): each job goes on its
priority's queue and its answer comes back here, where the stages store it; a worker never writes the database.

A job with no answer within NEWSBOT_JOB_TIMEOUT (its worker died) is sent again, at most MAX_SENDS times; one refused
(a worker with other models) goes back to the queue for another worker, and /health says which worker refused it and
why. While no worker with the job's models is alive (only workers with other models, or none at all) for
NO_WORKER_GRACE, the job fails with that reason rather than waiting for ever: a reader gets the untranslated text at
once, and a story is retried by a later pass. Redis away is waited out: sending and reading resume when it is back, and
`outage_since` says since when for /health. Celery is imported at first use, so that a main box without a broker never
loads it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.errors import ModelError
from bot.service.context import Context
from bot.service.engines import Engines
from bot.service.model_work import DetectJob, EnrichJob, ModelThread, Priority, TranslateJob
from summarizer.types import Detection, EngineConfig, Enriched, Translation

if TYPE_CHECKING:
    from celery import Celery

    from bot.workers.payloads import Answer

log = logging.getLogger(__name__)

POLL_EVERY = 0.02  # seconds between two looks for answers while jobs are in flight
RETRY_EVERY = 1.0  # seconds between two tries to reach Redis while it is away
FLEET_CHECK = 5.0  # seconds between two looks at which workers are alive, while jobs wait
NO_WORKER_GRACE = 60.0  # seconds a job waits while no worker with its models is alive (a worker's sign-of-life TTL)
MAX_SENDS = 3  # a job sent this many times without an answer (each killed its worker?) fails


@dataclass(frozen=True)
class WorkerSeen:
    name: str
    device: str
    concurrency: int
    models: str
    age_s: float  # since its last sign of life


@dataclass(frozen=True)
class BrokerStatus:
    """What /health shows of the queue: reachable or not (and since when not), jobs waiting per priority, the
    workers seen in the last minute, jobs failed."""

    url: str  # without its password
    reachable: bool
    error: str | None = None
    queues: dict[str, int] = field(default_factory=dict)  # priority name -> jobs waiting
    workers: list[WorkerSeen] = field(default_factory=list)
    jobs_failed: int = 0
    outage_s: float | None = None  # this process's broker outage, while it lasts
    last_refusal: str | None = None  # the last job a worker refused (its models differ): which worker, why


class CeleryWork:
    """ModelWork on the queue; detection without an engine (lingua alone, no models) stays on this box."""

    stop_grace: float | None = 5.0  # answers in flight at a stop: what comes meanwhile is stored, the rest redone later
    no_worker_grace: float = NO_WORKER_GRACE

    def __init__(self, ctx: Context, engines: Engines, broker_url: str) -> None:
        self.ctx = ctx
        self.engines = engines
        self.broker_url = broker_url
        self.parallelism = ctx.settings.jobs_in_flight
        self.job_timeout = ctx.settings.job_timeout
        self._local = ModelThread(ctx, engines)
        self._app: Celery | None = None
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self.outage_since: float | None = None
        self.answered: Counter[str] = Counter()  # answers taken, by worker name
        self._fleet: tuple[float, dict[str, str]] | None = None  # when looked at; worker name -> its models
        self._fleet_lock = asyncio.Lock()  # one look at a time: the jobs waiting share it
        self._missing: dict[str, float] = {}  # models -> since when no worker alive runs them (for every job)

    @property
    def app(self) -> Celery:
        if self._app is None:
            from bot.workers.app import make_celery

            self._app = make_celery(self.broker_url, job_timeout=self.job_timeout)
        return self._app

    # -- ModelWork ---------------------------------------------------------------------------------------------------
    async def ready(self) -> EngineConfig:
        """The configuration the jobs carry; the models are the workers' (this box needs none)."""
        return await self.engines.config()

    async def enrich(self, job: EnrichJob) -> list[Enriched | str]:
        from bot.workers.payloads import ENRICH_TASK, enrich_payload, models_identity

        payload = enrich_payload(models_identity(job.config), job.articles)
        try:
            answer = await self._answer(ENRICH_TASK, payload, job.priority)
        except ModelError as e:  # no worker could take it: each story fails with the reason, retried by a later pass
            return [str(e)] * len(job.articles)
        if answer.refused is not None or answer.error is not None or answer.results is None:
            reason = f"worker {answer.worker} refused the job: {answer.refused or answer.error}"
            return [reason] * len(job.articles)
        if len(answer.results) != len(job.articles):
            return [f"worker {answer.worker} answered {len(answer.results)} results for {len(job.articles)}"] * len(
                job.articles
            )
        return answer.results

    async def translate(self, job: TranslateJob) -> Translation:
        from bot.workers.payloads import TRANSLATE_TASK, models_identity, translate_payload

        payload = translate_payload(models_identity(job.config), job.texts, job.src, job.tgt)
        answer = await self._answer(TRANSLATE_TASK, payload, job.priority)
        if answer.translation is None:
            raise ModelError(f"worker {answer.worker}: {answer.refused or answer.error or 'no translation'}")
        return answer.translation

    async def detect(self, job: DetectJob) -> list[Detection]:
        return await self._local.detect(job)

    # -- jobs and answers --------------------------------------------------------------------------------------------
    async def _answer(self, task: str, payload: dict[str, Any], priority: Priority) -> Answer:
        """The job's answer. With none within the job timeout (its worker died), it is sent again, and the first
        answer to any of its copies counts: a slow worker's answer is never thrown away. ModelError when no worker
        with the job's models is alive for `no_worker_grace`, or after MAX_SENDS copies went unanswered."""
        from bot.workers.app import queue_for
        from bot.workers.payloads import answer_of

        copies: dict[str, asyncio.Future[dict[str, Any]]] = {}
        sent_at = None
        models = payload["models"]
        try:
            while True:
                if sent_at is None or time.monotonic() - sent_at >= self.job_timeout:
                    if copies:
                        log.warning("no answer to a %s job within %d s", task, self.job_timeout)
                        await self._count_failed()
                        if len(copies) >= MAX_SENDS:
                            raise ModelError(f"no worker answered this job, sent {len(copies)} times, "
                                             f"{self.job_timeout} s each (NEWSBOT_JOB_TIMEOUT)")  # fmt: skip
                    task_id = uuid.uuid4().hex
                    copies[task_id] = self._waiting[task_id] = asyncio.get_running_loop().create_future()
                    await self._send(task, task_id, payload, queue_for(priority))
                    sent_at = time.monotonic()
                    self._read_answers()
                done, _ = await asyncio.wait(copies.values(), timeout=FLEET_CHECK)
                if done:
                    break
                fleet = await self._fleet_models()
                if fleet is None or models in fleet.values():
                    self._missing.pop(models, None)
                elif time.monotonic() - self._missing.setdefault(models, time.monotonic()) >= self.no_worker_grace:
                    await self._count_failed()
                    raise ModelError(_no_worker(models, fleet))
        finally:
            for task_id in copies:
                self._waiting.pop(task_id, None)
        answer = answer_of(next(iter(done)).result())
        self.answered[answer.worker] += 1
        if answer.refused is not None or answer.error is not None:
            await self._count_failed()
        return answer

    async def _fleet_models(self) -> dict[str, str] | None:
        """Worker name -> its models, for the workers alive (looked at once per FLEET_CHECK for every job waiting);
        None while Redis is away."""
        async with self._fleet_lock:
            if self._fleet is None or time.monotonic() - self._fleet[0] >= FLEET_CHECK:
                try:
                    seen = await asyncio.to_thread(self._workers_seen)
                except Exception:
                    return None
                self._fleet = (time.monotonic(), {w.name: w.models for w in seen})
            return self._fleet[1]

    async def _send(self, task: str, task_id: str, payload: dict[str, Any], queue: str) -> None:
        while True:
            try:
                await asyncio.to_thread(self.app.send_task, task, args=[payload], task_id=task_id, queue=queue)
            except Exception as e:  # Redis away: waited out, the job is not lost
                self._outage(e)
                await asyncio.sleep(RETRY_EVERY)
                continue
            self.outage_since = None
            return

    def _read_answers(self) -> None:
        if self._reader is None or self._reader.done():
            self._reader = asyncio.ensure_future(self._reading())

    async def _reading(self) -> None:
        """While jobs are in flight: their stored results, read together (MGET), handed to their waiters and deleted."""
        while self._waiting:
            ids = list(self._waiting)
            try:
                found = await asyncio.to_thread(self._take_results, ids)
            except Exception as e:
                self._outage(e)
                await asyncio.sleep(RETRY_EVERY)
                continue
            self.outage_since = None
            for task_id, meta in found.items():
                future = self._waiting.get(task_id)
                if future is not None and not future.done():
                    future.set_result(meta)
            if not found:
                await asyncio.sleep(POLL_EVERY)

    def _take_results(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        backend = self.app.backend
        keys = [backend.get_key_for_task(task_id) for task_id in ids]
        values = backend.client.mget(keys)
        found: dict[str, dict[str, Any]] = {}
        for task_id, key, value in zip(ids, keys, values, strict=True):
            if value is None:
                continue
            meta = backend.decode_result(value)
            if meta.get("status") == "SUCCESS":
                found[task_id] = meta["result"]
            elif meta.get("status") in ("FAILURE", "REVOKED"):  # the task raised: a bug on the worker
                found[task_id] = _failed(str(meta.get("result")))
            else:
                continue
            backend.client.delete(key)
        return found

    async def _count_failed(self) -> None:
        from bot.workers.app import FAILED_KEY

        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.app.backend.client.incr, FAILED_KEY)

    def _outage(self, error: Exception) -> None:
        if self.outage_since is None:
            self.outage_since = time.monotonic()
            log.warning("the broker is unreachable (%s): waiting for it", error)

    # -- health ------------------------------------------------------------------------------------------------------
    async def status(self) -> BrokerStatus:
        return await asyncio.to_thread(self._status)

    def _status(self) -> BrokerStatus:
        import json

        from bot.workers.app import FAILED_KEY, REFUSED_KEY
        from bot.workers.payloads import QUEUES

        url = _without_password(self.broker_url)
        outage = None if self.outage_since is None else time.monotonic() - self.outage_since
        client = self.app.backend.client
        try:
            depths = {priority.name.lower(): int(client.llen(QUEUES[priority])) for priority in Priority}
            workers = self._workers_seen()
            failed = int(client.get(FAILED_KEY) or 0)
            refusal = client.get(REFUSED_KEY)
        except Exception as e:
            return BrokerStatus(url, False, f"{type(e).__name__}: {e}", outage_s=outage)
        return BrokerStatus(
            url,
            True,
            queues=depths,
            workers=workers,
            jobs_failed=failed,
            outage_s=outage,
            last_refusal=None if refusal is None else json.loads(refusal)["reason"],
        )

    def _workers_seen(self) -> list[WorkerSeen]:
        import json

        from bot.workers.app import WORKER_KEY

        client = self.app.backend.client
        workers = []
        for key in sorted(client.scan_iter(match=WORKER_KEY + "*", count=100)):
            raw = client.get(key)
            if raw is None:
                continue
            seen = json.loads(raw)
            workers.append(
                WorkerSeen(
                    seen["name"],
                    seen["device"],
                    int(seen["concurrency"]),
                    seen["models"],
                    max(0.0, time.time() - float(seen["seen_at"])),
                )
            )
        return workers

    def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self._app is not None:
            with contextlib.suppress(Exception):
                self._app.close()


def _failed(reason: str) -> dict[str, Any]:
    from bot.workers.payloads import Answer, answer_payload

    return answer_payload(Answer("?", "?", error=reason))


def _no_worker(models: str, fleet: dict[str, str]) -> str:
    others = ", ".join(f"{name} runs {theirs}" for name, theirs in sorted(fleet.items()))
    return (
        f"no worker runs this box's models ({models}): "
        + (f"{others}; " if others else "none is alive; ")
        + "start `newsbot worker` with the same feeds.yaml models and NEWSBOT_BACKEND"
    )


def _without_password(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
