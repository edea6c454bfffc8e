"""A local server that answers like the Hugging Face Hub for the models it is given (revision info with file sizes,
file tree, HEAD/GET of each file), for download tests; it can refuse a repository, or send weights slowly or stall."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from summarizer.types import EngineConfig
from tests.httpserver import FeedServer, Route
from tests.tinymodels import TinyModels

SUMMARIZER = "sshleifer/distilbart-cnn-12-6"
# Files hub repos carry beside what the engine reads: they must not be fetched.
UNNEEDED = {"tf_model.h5": b"tf", "rust_model.ot": b"rust", "onnx/model.onnx": b"onnx", "pytorch_model.bin": b"pt"}


def serve_repo(
    server: FeedServer, repo: str, directory: Path, *, rate: int = 0, stall_after: int | None = None
) -> None:
    """Routes for one model repo: revision info (with sizes, as `?blobs=true` gives them), file tree, and HEAD/GET of
    each file at `main` and its commit. The weights go at `rate` bytes a second, or stall after `stall_after`."""
    files = {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()} | UNNEEDED
    sha = hashlib.sha1(repo.encode()).hexdigest()
    siblings = [{"rfilename": name, "size": len(body)} for name, body in files.items()]
    info = {"id": repo, "sha": sha, "siblings": siblings}
    tree = [
        {"type": "file", "path": name, "size": len(body), "oid": hashlib.sha1(body).hexdigest()}
        for name, body in files.items()
    ]
    as_json = "application/json"
    for path in (f"/api/models/{repo}", f"/api/models/{repo}/revision/main", f"/api/models/{repo}/revision/{sha}"):
        server.routes[path] = Route(body=json.dumps(info), content_type=as_json)
    server.routes[f"/api/models/{repo}/tree/{sha}"] = Route(body=json.dumps(tree), content_type=as_json)
    for name, body in files.items():
        headers = {"X-Repo-Commit": sha, "ETag": f'"{hashlib.sha256(body).hexdigest()}"'}
        slow = name.startswith(("model", "pytorch_model"))
        for revision in ("main", sha):
            server.routes[f"/{repo}/resolve/{revision}/{name}"] = Route(
                body=body,
                content_type="application/octet-stream",
                headers=headers,
                rate=rate if slow else 0,
                stall_after=stall_after if slow else None,
            )


def refuse_repo(server: FeedServer, repo: str) -> None:
    """What the hub answers for a repository that does not exist."""
    missing = Route(status=404, body='{"error": "Repository not found"}', headers={"X-Error-Code": "RepoNotFound"})
    server.routes[f"/api/models/{repo}"] = missing
    server.routes[f"/api/models/{repo}/revision/main"] = missing


@pytest.fixture
def hub(tiny_models: TinyModels) -> Iterator[FeedServer]:
    """The default map's models for it, de and pt (pt through ROMANCE-en and the multi-target tc-big-en-pt, as on the
    real hub); de-en is refused, so mul-en covers de -> en."""
    with FeedServer() as server:
        serve_repo(server, SUMMARIZER, tiny_models.long_summarizer)
        serve_repo(server, "Helsinki-NLP/opus-mt-mul-en", tiny_models.mul_en)
        for pair in ("opus-mt-it-en", "opus-mt-ROMANCE-en"):
            serve_repo(server, f"Helsinki-NLP/{pair}", tiny_models.it_en)
        for pair in ("en-it", "en-de"):
            serve_repo(server, f"Helsinki-NLP/opus-mt-{pair}", tiny_models.en_de)
        serve_repo(server, "Helsinki-NLP/opus-mt-tc-big-en-pt", tiny_models.en_pt)
        refuse_repo(server, "Helsinki-NLP/opus-mt-de-en")
        yield server


def hub_config(model_dir: Path) -> EngineConfig:
    """The shipped model ids; the tiny models' small positions need short summaries."""
    return EngineConfig(
        model_dir=model_dir, languages=("en", "it", "de", "pt"), summary_min_tokens=4, summary_max_tokens=8
    )
