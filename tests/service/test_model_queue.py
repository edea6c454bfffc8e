"""The model thread's queue: jobs by priority, and a reader's job run between two generation batches of a running
enrichment batch, on the same thread, with a real tiny engine's batches as the yield points."""

from __future__ import annotations

import threading
from typing import Any

from bot.service.model_queue import ModelQueue
from bot.service.model_work import Priority
from summarizer.engine import make_engine
from summarizer.seq2seq import yield_point
from summarizer.types import Article
from tests.tinymodels import TinyModels


def test_jobs_waiting_go_by_priority_then_arrival() -> None:
    queue, order, release = ModelQueue(), [], threading.Event()
    running = threading.Event()

    def blocker() -> None:
        running.set()
        release.wait(10)  # no yield point: nothing may run inside it

    first = queue.submit(Priority.BACKLOG, blocker)
    running.wait(10)
    jobs = [
        queue.submit(priority, lambda name=name: order.append(name))
        for priority, name in [
            (Priority.BACKLOG, "backlog"),
            (Priority.FRESH, "fresh 1"),
            (Priority.INTERACTIVE, "reader"),
            (Priority.FRESH, "fresh 2"),
        ]
    ]
    release.set()
    for job in [first, *jobs]:
        job.result(10)
    assert order == ["reader", "fresh 1", "fresh 2", "backlog"]
    queue.shutdown()


def test_a_readers_job_runs_at_the_next_yield_point_of_a_running_batch() -> None:
    queue, events, queued = ModelQueue(), [], threading.Event()

    def batch() -> None:
        for step in range(3):
            yield_point()
            events.append(f"batch {step}")
            if step == 0:
                reader = queue.submit(Priority.INTERACTIVE, lambda: events.append("reader"))
                fresh = queue.submit(Priority.FRESH, lambda: events.append("fresh"))
                jobs.extend([reader, fresh])
                queued.set()

    jobs: list[Any] = []
    queue.submit(Priority.FRESH, batch).result(10)
    for job in jobs:
        job.result(10)
    # the reader between batch steps 0 and 1; another fresh job waits for the whole batch
    assert events == ["batch 0", "reader", "batch 1", "batch 2", "fresh"]
    strict = ModelQueue(preempt=False)
    events.clear()
    jobs.clear()
    strict.submit(Priority.FRESH, batch).result(10)
    for job in jobs:
        job.result(10)
    assert events == ["batch 0", "batch 1", "batch 2", "reader", "fresh"]
    queue.shutdown()
    strict.shutdown()


def test_a_translation_goes_between_the_generation_batches_of_an_enrichment(tiny_models: TinyModels) -> None:
    engine = make_engine(tiny_models.config(languages=("en", "it", "de"), batch_size=2))
    text = " ".join(f"Frase numero {i} della notizia di oggi." for i in range(12))
    articles = [Article(f"Notizia {i}", text, "it") for i in range(4)]
    engine.translate(["warm up"], "en", "de")  # loaded before: the reader's job is generation only
    queue, events, jobs = ModelQueue(), [], []

    def reader() -> None:
        events.append("reader")
        engine.translate(["The reader's article."], "en", "de")  # its own batches yield to nobody

    def enrich() -> Any:
        jobs.append(queue.submit(Priority.INTERACTIVE, reader))  # a reader presses 📖 as the batch starts
        result = engine.process_many(articles)
        events.append("batch done")
        return result

    assert len(queue.submit(Priority.FRESH, enrich).result(120)) == 4 and jobs[0].result(120) is None
    assert events == ["reader", "batch done"]
    queue.shutdown()
