"""What travels between the main box and the workers, as plain versioned JSON data: the jobs (enrich, translate), their
answers, and which models a box runs (the fingerprint a worker checks before working). Pure: no Celery, no Redis."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields
from typing import Any

from summarizer.types import Article, EngineConfig, Enriched, Translation

VERSION = 1  # of every payload below; a worker refuses another version rather than guess at its fields

# One queue per priority (bot/service/model_work.py's Priority, by value): a worker consumes them in this order, so a
# reader waiting never queues behind the backlog.
QUEUES = ("newsbot-interactive", "newsbot-fresh", "newsbot-backlog")
ENRICH_TASK = "newsbot.enrich"
TRANSLATE_TASK = "newsbot.translate"

# Deployment choices of one box: where its models lie and run, how wide its batches and thread pools are. They change
# how fast a box works, not what its models write, so a GPU worker and a CPU worker serve the same jobs.
_DEPLOYMENT = frozenset({"model_dir", "device", "torch_threads", "batch_size", "max_loaded_pairs", "qa_model"})


def models_identity(config: EngineConfig) -> str:
    """A short hash of what decides an engine's output: backend, languages, every model setting and the generation
    options. Two boxes whose identities match write the same enrichment for the same article."""
    chosen = {f.name: getattr(config, f.name) for f in fields(config) if f.name not in _DEPLOYMENT}
    text = json.dumps(chosen, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class PayloadError(ValueError):
    """A payload of another version or shape: refused, never guessed at."""


def enrich_payload(identity: str, articles: list[Article]) -> dict[str, Any]:
    return {"v": VERSION, "models": identity, "articles": [asdict(a) for a in articles]}


def translate_payload(identity: str, texts: list[str], src: str, tgt: str) -> dict[str, Any]:
    return {"v": VERSION, "models": identity, "texts": list(texts), "src": src, "tgt": tgt}


def checked(payload: Any, identity: str) -> dict[str, Any]:
    """`payload` if this box may work on it: our version, and our models; PayloadError saying why not."""
    if not isinstance(payload, dict) or payload.get("v") != VERSION:
        version = payload.get("v") if isinstance(payload, dict) else None
        raise PayloadError(f"a job of payload version {version!r}; this worker reads version {VERSION}")
    if payload.get("models") != identity:
        raise PayloadError(
            f"a job for models {payload.get('models')!r}; this worker runs models {identity!r} (feeds.yaml's models "
            "or NEWSBOT_BACKEND differ from the main box's)"
        )
    return payload


def articles_of(payload: dict[str, Any]) -> list[Article]:
    return [Article(**a) for a in payload["articles"]]


@dataclass(frozen=True)
class Answer:
    """A worker's answer to one job: `results` (enrich: each article's Enriched or its failure's reason; translate:
    one Translation), or `refused`, the reason it did no work; who answered, on what device."""

    worker: str
    device: str
    results: list[Enriched | str] | None = None
    translation: Translation | None = None
    refused: str | None = None
    error: str | None = None  # the job failed as a whole (translate: what the engine raised)


def answer_payload(answer: Answer) -> dict[str, Any]:
    results = None
    if answer.results is not None:
        results = [r if isinstance(r, str) else asdict(r) for r in answer.results]
    return {
        "v": VERSION,
        "worker": answer.worker,
        "device": answer.device,
        "results": results,
        "translation": None if answer.translation is None else asdict(answer.translation),
        "refused": answer.refused,
        "error": answer.error,
    }


def answer_of(payload: Any) -> Answer:
    if not isinstance(payload, dict) or payload.get("v") != VERSION:
        raise PayloadError(f"an answer of another payload version: {payload!r:.200}")
    results = payload.get("results")
    translation = payload.get("translation")
    return Answer(
        worker=str(payload.get("worker")),
        device=str(payload.get("device")),
        results=None if results is None else [r if isinstance(r, str) else Enriched(**r) for r in results],
        translation=None if translation is None else Translation(**translation),
        refused=payload.get("refused"),
        error=payload.get("error"),
    )
