"""Model work on Celery workers against the in-process model thread, side by side in one run (issue 23):

(a) the main box's ceiling: workers that answer at once with stored results; what the main box then stores per second,
    and each batch's latency from enqueue to stored (p50, p95): how many workers one main box can feed;
(b) articles per minute through the real product path (poll, then `enrichment.enrich()`) with the real-size
    random-weight models (benchmarks/random_models.py, CTranslate2 int8) for the in-process model thread, one worker
    with 2 slots, and two workers with 1 slot each, on this box;
(c) one CUDA worker against one CPU worker: only on a GPU machine;
(d) the model work that stays on the main box: e5 embeddings of the same articles per minute (one per story, for
    /ask and clusters), against which the workers' output can be weighed.

    python benchmarks/workers.py [--articles 16] [--instant 2000]

It starts its own redis-server (Debian's `redis-server` must be installed) on a free port of 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

from tests.corpora import flores_lines  # noqa: E402
from tests.httpserver import FeedServer, Route  # noqa: E402
from tests.workers.redis import RedisServer  # noqa: E402


def feed(count: int, lang: str = "it") -> bytes:
    """`count` articles of 9 FLORES lines each (3 paragraphs), in `lang`."""
    lines = flores_lines(lang)
    items = []
    for n in range(count):
        body = [lines[(9 * n + k) % len(lines)] for k in range(9)]
        text = "\n".join(" ".join(body[p : p + 3]) for p in range(0, 9, 3))
        items.append(f"<item><title>{escape(body[0][:80])}</title><link>https://b.example/{n}</link>"
                     f"<guid>{n}</guid><description>{escape(text)}</description></item>")  # fmt: skip
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>B</title>{"".join(items)}</channel></rss>'.encode()


def environment(directory: Path, feeds: Path, backend: str, broker_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "TELEGRAM_"))}
    env |= {"NEWSBOT_DB": str(directory / "newsbot.db"), "NEWSBOT_FEEDS": str(feeds), "NEWSBOT_BACKEND": backend,
            "NEWSBOT_MODEL_DIR": str(directory / "models"), "NEWSBOT_ALLOW_PRIVATE_URLS": "1",
            "NEWSBOT_EXTRACT_ARTICLES": "0"}  # fmt: skip
    if broker_url:
        env["NEWSBOT_BROKER_URL"] = broker_url
    return env


@contextlib.contextmanager
def workers(env: dict[str, str], slots: list[int], log: Path, *extra: str) -> Iterator[None]:
    """`newsbot worker` processes, one per entry of `slots` (its --concurrency); `extra` replaces the command."""
    command = extra or (sys.executable, "-m", "bot", "worker")
    started = [subprocess.Popen([*command, "--concurrency", str(n), "--name", f"bench{i}"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=log.open("ab")) for i, n in enumerate(slots)]  # fmt: skip
    try:
        yield
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


async def timed_pass(env: dict[str, str], warm_jobs: int) -> dict[str, Any]:
    """Poll into a fresh database, warm every engine (one small job per slot), then time one enrichment pass;
    enqueue→stored latency per batch."""
    from bot.config import load_settings
    from bot.service import make_service
    from bot.service.model_work import EnrichJob
    from summarizer.types import Article

    names = {"NEWSBOT_DB": "db", "NEWSBOT_FEEDS": "feeds", "NEWSBOT_BACKEND": "backend", "NEWSBOT_MODEL_DIR": "model_dir",
             "NEWSBOT_ALLOW_PRIVATE_URLS": "allow_private_urls", "NEWSBOT_EXTRACT_ARTICLES": "extract_articles",
             "NEWSBOT_BROKER_URL": "broker_url"}  # fmt: skip
    service = make_service(load_settings(**{names[k]: v for k, v in env.items() if k in names}))
    try:
        await service.ingest.poll(force=True)
        config = await service.model_work.ready()
        warm = EnrichJob(config, [Article(title="Warm up", text="Una frase per scaldare il modello.")])
        await asyncio.gather(*(service.model_work.enrich(warm) for _ in range(warm_jobs)))
        latencies: list[float] = []
        sent: dict[tuple[str, str], float] = {}  # a batch's first article -> when its job was sent
        enrich, store = service.model_work.enrich, service.enrichment._store

        async def timed_enrich(job: EnrichJob) -> Any:
            sent[(job.articles[0].title, job.articles[0].text)] = time.perf_counter()
            return await enrich(job)

        async def timed_store(batch: Any, results: Any, *args: Any) -> Any:
            stored = await store(batch, results, *args)
            latencies.append(time.perf_counter() - sent[(batch[0].title, batch[0].text)])
            return stored

        service.model_work.enrich = timed_enrich  # type: ignore[method-assign]
        service.enrichment._store = timed_store  # type: ignore[method-assign]
        started = time.perf_counter()
        report = await service.enrichment.enrich()
        seconds = time.perf_counter() - started
    finally:
        await service.aclose()
    assert report.failed == 0, report.errors
    return {"stored": report.done, "seconds": seconds, "latencies": latencies}


def instant_worker(broker_url: str, concurrency: int, name: str) -> None:
    """A worker answering each enrich job at once with a stored enrichment (no model): the main box's ceiling."""
    from bot.workers.app import make_celery
    from bot.workers.payloads import ENRICH_TASK, Answer, answer_payload
    from summarizer.types import Enriched

    app = make_celery(broker_url, job_timeout=600)

    def enrich(payload: dict[str, Any]) -> dict[str, Any]:
        results: list[Enriched | str] = [
            Enriched("it", 0.99, a["title"], a["text"], a["title"], {"summarize": "stored"})
            for a in payload["articles"]
        ]
        return answer_payload(Answer(name, "cpu", results=results))

    app.task(name=ENRICH_TASK, acks_late=True)(enrich)
    app.worker_main(["worker", "--pool=threads", f"--concurrency={concurrency}", f"--hostname={name}",
                     "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=WARNING",
                     "--queues=newsbot-interactive,newsbot-fresh,newsbot-backlog"])  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=16, help="articles per side of (b) (default 16)")
    parser.add_argument("--instant", type=int, default=2000, help="stories stored in (a) (default 2000)")
    parser.add_argument("--skip-models", action="store_true", help="(a) only")
    parser.add_argument("--instant-worker", nargs=3, metavar=("URL", "SLOTS", "NAME"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.instant_worker:
        url, slots, name = args.instant_worker
        instant_worker(url, int(slots), name)
        return

    with tempfile.TemporaryDirectory(prefix="newsbot-workers-") as tmp, FeedServer() as server:
        directory = Path(tmp)
        redis = RedisServer(directory)
        redis.start()
        try:
            results = run(args, directory, server, redis)
        finally:
            redis.stop()
    report(results)


def run(args: argparse.Namespace, directory: Path, server: FeedServer, redis: RedisServer) -> dict[str, Any]:
    import yaml

    results: dict[str, Any] = {"cpus": os.cpu_count(), "load_before": os.getloadavg()[0]}
    log = directory / "workers.log"

    # (a) the main box's ceiling
    server.routes["/instant"] = Route(body=feed(args.instant))
    feeds = directory / "instant.yaml"
    feeds.write_text(yaml.safe_dump({"feeds": [{"url": server.url("/instant")}]}))
    (directory / "a").mkdir()
    env = environment(directory / "a", feeds, "extractive", redis.url)
    instant = (sys.executable, __file__, "--instant-worker", redis.url, "8", "instant")
    with workers(env, [], log):
        process = subprocess.Popen([*instant], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("ab"))
        try:
            results["instant"] = asyncio.run(timed_pass(env, 1))
        finally:
            process.terminate()
            process.wait(30)
    print("(a)", summary(results["instant"]), flush=True)
    results["embed_per_minute"] = embed_rate(args.articles)
    print("(d)", round(results["embed_per_minute"], 1), flush=True)
    if args.skip_models:
        return results

    # (b) real-size random-weight models, CTranslate2 int8, three ways on this box
    from random_models import build_models

    from summarizer.convert import convert_models
    from summarizer.types import EngineConfig

    paths = build_models(directory / "random")
    models = {
        "summarizer": paths["summarize"],
        "translation_overrides": {"it-en": paths["it-en"], "en-de": paths["en-de"]},
    }
    convert_models(EngineConfig(backend="ctranslate2", model_dir=directory / "b" / "models", summarizer_model=paths["summarize"],
                                translation_overrides=models["translation_overrides"], languages=("en", "it", "de")))  # fmt: skip
    server.routes["/models"] = Route(body=feed(args.articles))
    feeds = directory / "models.yaml"
    feeds.write_text(yaml.safe_dump({"settings": {"languages": ["en", "it", "de"], "models": models},
                                     "feeds": [{"url": server.url("/models"), "lang": "it"}]}))  # fmt: skip
    sides = {"in-process": None, "1 worker x 2 slots": [2], "2 workers x 1 slot": [1, 1]}
    for side, slots in sides.items():
        run_dir = directory / side.replace(" ", "-")
        run_dir.mkdir()
        (run_dir / "models").symlink_to(directory / "b" / "models")
        env = environment(run_dir, feeds, "ctranslate2", None if slots is None else redis.url)
        with workers(env, slots or [], log):
            results[side] = asyncio.run(timed_pass(env, sum(slots or [1])))
        print("(b)", side, summary(results[side]), flush=True)
    results["load_after"] = os.getloadavg()[0]
    return results


def embed_rate(count: int) -> float:
    """Articles per minute the main box embeds with e5 (warm, one batch of `count`, as the indexing stage does)."""
    from summarizer.embed import E5Embedder

    lines = flores_lines("it")
    texts = ["\n".join(" ".join(lines[(9 * n + k) % len(lines)] for k in range(p, p + 3)) for p in range(0, 9, 3))
             for n in range(count)]  # fmt: skip
    embedder = E5Embedder()
    embedder.passages(texts[:2])
    began = time.perf_counter()
    embedder.passages(texts)
    return count / (time.perf_counter() - began) * 60


def summary(run: dict[str, Any]) -> dict[str, Any]:
    return {"stored": run["stored"], "seconds": round(run["seconds"], 2)}


def report(results: dict[str, Any]) -> None:
    instant = results["instant"]
    print()
    print(f"{results['cpus']} CPUs; load average {results['load_before']:.1f} before")
    print("(a) main box ceiling, workers answering at once with stored results")
    print(f"    stored per second: {instant['stored'] / instant['seconds']:.0f} (goal >= 200)")
    print(f"    enqueue->stored latency per batch: p50 {percentile(instant['latencies'], 0.5) * 1000:.0f} ms, "
          f"p95 {percentile(instant['latencies'], 0.95) * 1000:.0f} ms")  # fmt: skip
    if "in-process" in results:
        base = results["in-process"]["stored"] / results["in-process"]["seconds"] * 60
        print("(b) articles per minute, real-size random-weight models, CTranslate2 int8, this box")
        for side in ("in-process", "1 worker x 2 slots", "2 workers x 1 slot"):
            rate = results[side]["stored"] / results[side]["seconds"] * 60
            print(f"    {side:<20} {rate:6.1f}  ({rate / base:.2f} x in-process)")
        print(f"    load average {results['load_after']:.1f} after (other work on the box skews these)")
    print("(c) CUDA worker against CPU worker: not measured: no GPU machine")
    print(f"(d) the main box's own model work, e5 embeddings: {results['embed_per_minute']:.0f} articles per minute")
    print(json.dumps({k: (asdict(v) if hasattr(v, "__dataclass_fields__") else v) for k, v in results.items()
                      if k not in ("instant",)} | {"instant": summary(instant)}, default=str))  # fmt: skip


if __name__ == "__main__":
    main()
