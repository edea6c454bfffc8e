"""How long a reader waits for a whole article (📖) while an enrichment batch runs; never a test.

Real-size random-weight models (benchmarks/random_models.py, as benchmarks/fanout.py uses): one Italian article is
enriched first (its English pivot is what an article view translates), then a batch of ARTICLES more starts, and a
German reader opens the first one once the batch is under way. Prints, side by side from one run, the reader's wait
and the batch's duration with the model thread's priority queue (interactive work at the batch's next yield point,
between generation batches) and without it (strictly one job after another), and whether the article came before
the batch ended.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import yaml  # noqa: E402

from bot.service import make_service  # noqa: E402
from bot.service.model_queue import ModelQueue  # noqa: E402
from tests.httpserver import FeedServer, Route  # noqa: E402
from tests.test_service import make_settings  # noqa: E402

START_AFTER = 3.0  # seconds into the batch when the reader presses 📖


def feed(title: str, body: str, guids: range) -> bytes:
    items = "".join(
        f"<item><title>{title} ({i})</title><link>https://it.example/{i}</link><guid>{i}</guid>"
        f"<description>{body}</description></item>"
        for i in guids
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode()


async def one_run(paths: dict[str, str], articles: int, *, preempt: bool) -> dict[str, Any]:
    from dataclasses import replace

    from engine import engine_config
    from random_models import ARTICLE

    from summarizer.engine import make_engine

    tmp = Path(tempfile.mkdtemp(prefix="newsbot-article-"))
    config = engine_config(paths, "transformers")  # as benchmarks/engine.py and fanout.py run them
    engine = make_engine(replace(config, languages=("en", "it", "de"), batch_size=articles))
    lines = ARTICLE.read_text(encoding="utf-8").strip().splitlines()
    body = "\n".join(lines[1:]).replace("&", "&amp;").replace("<", "&lt;")
    with FeedServer() as feeds:
        feeds.routes["/feed"] = Route(body=feed(lines[0], body, range(1)))
        (tmp / "feeds.yaml").write_text(
            yaml.safe_dump(
                {"settings": {"languages": ["en", "it", "de"]}, "feeds": [{"url": feeds.url("/feed"), "lang": "it"}]}
            )
        )
        service = make_service(make_settings(tmp, backend="transformers"), engine=engine)
        service.ctx._models = ModelQueue(preempt=preempt)  # the queue under test, or strict order
        try:
            await service.ingest.poll(force=True)
            await service.enrichment.enrich()  # the article to open, with its English pivot
            [opened] = await service.stories.recent()
            feeds.routes["/feed"] = Route(body=feed(lines[0], body, range(1, articles + 1)))
            await service.ingest.poll(force=True)
            started = time.perf_counter()
            batch = asyncio.create_task(service.enrichment.enrich())
            batch_ended: list[float] = []  # when the batch's task finished, not when this coroutine looks
            batch.add_done_callback(lambda _: batch_ended.append(time.perf_counter()))
            await asyncio.sleep(START_AFTER)
            pressed = time.perf_counter()
            story = await service.articles.story(opened.id)
            assert story is not None
            view = await service.articles.view(story, "de")
            delivered = time.perf_counter()
            report = await batch
            [ended] = batch_ended
        finally:
            await service.aclose()
    return {
        "preempt": preempt,
        "articles_in_batch": articles,
        "enriched": report.done,
        "translated": view.translated,
        "article_wait_seconds": round(delivered - pressed, 2),
        "batch_seconds": round(ended - started, 2),
        "delivered_before_batch_end": delivered < ended,
    }


async def run(articles: int, compare: bool) -> dict[str, Any]:
    from random_models import build_models

    tmp = Path(tempfile.mkdtemp(prefix="newsbot-models-"))
    built = time.perf_counter()
    paths = build_models(tmp / "models")
    result: dict[str, Any] = {"model_build_seconds": round(time.perf_counter() - built, 1)}
    result["with_priority"] = await one_run(paths, articles, preempt=True)
    if compare:
        result["without_priority"] = await one_run(paths, articles, preempt=False)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=8, help="articles in the enrichment batch")
    parser.add_argument("--compare", action="store_true", help="also run without the priority queue")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args.articles, args.compare))
    if args.json:
        print(json.dumps(result))
        return
    runs = [result["with_priority"], *([result["without_priority"]] if args.compare else [])]
    print(f"random-weight real-size models built in {result['model_build_seconds']} s")
    print(f"{'':34}" + "".join(f"{'priority' if r['preempt'] else 'one after another':>20}" for r in runs))
    for key, label in (
        ("article_wait_seconds", "wait for the article (s)"),
        ("batch_seconds", f"{args.articles}-article batch (s)"),
        ("delivered_before_batch_end", "article before the batch ended"),
        ("translated", "article translated into German"),
    ):
        print(f"{label:34}" + "".join(f"{r[key]!s:>20}" for r in runs))


if __name__ == "__main__":
    main()
