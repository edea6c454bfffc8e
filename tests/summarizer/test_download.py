"""Model download against a local server that answers like the Hugging Face Hub; then offline loading by hub id."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import huggingface_hub.constants
import pytest

from summarizer.convert import convert_models
from summarizer.download import download_models, locate_model, missing_models
from summarizer.engine import make_engine
from summarizer.errors import ModelDownloadError, ModelUnavailableError
from summarizer.transformers_backend import TransformersEngine
from summarizer.types import EngineConfig
from tests.corpora import ROOT
from tests.fakehub import SUMMARIZER, UNNEEDED, hub, hub_config, refuse_repo, serve_repo
from tests.httpserver import FeedServer
from tests.tinymodels import TinyModels

__all__ = ["hub"]  # the fixture, used by name


def test_download_fetches_configured_models_then_the_engine_loads_them_offline_by_hub_id(
    hub: FeedServer, tiny_models: TinyModels, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = hub_config(tmp_path / "models")
    assert len(missing_models(config)) == 8
    events: list[tuple[str, str]] = []

    fetched = download_models(config, progress=lambda name, status: events.append((name, status)), endpoint=hub.url())

    pairs = ["opus-mt-it-en", "opus-mt-en-it", "opus-mt-en-de", "opus-mt-ROMANCE-en", "opus-mt-tc-big-en-pt"]
    assert sorted(fetched) == sorted([SUMMARIZER, "Helsinki-NLP/opus-mt-mul-en", *("Helsinki-NLP/" + p for p in pairs)])
    assert ("Helsinki-NLP/opus-mt-de-en", "not_found") in events
    assert [status for name, status in events if name == SUMMARIZER] == ["fetching", "done"]
    assert missing_models(config) == ["Helsinki-NLP/opus-mt-de-en"]
    snapshot = locate_model(SUMMARIZER, config.model_dir)
    assert snapshot is not None and snapshot.is_relative_to(config.model_dir)
    assert {p.name for p in snapshot.iterdir()} == {p.name for p in tiny_models.long_summarizer.iterdir()}
    assert not any(request.path.endswith(tuple(UNNEEDED)) for request in hub.requests() if request.method == "GET")

    hub.stop()  # nothing may be asked of the network from here on
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    engine = make_engine(config)
    assert engine.translate(["Il gatto dorme."], "it", "en").model == "Helsinki-NLP/opus-mt-it-en"
    assert engine.translate(["O gato dorme."], "pt", "en").model == "Helsinki-NLP/opus-mt-ROMANCE-en"
    assert engine.translate(["Die Katze schläft."], "de", "en").model == "Helsinki-NLP/opus-mt-mul-en"
    assert engine.translate(["The cat sleeps."], "en", "pt").model == "Helsinki-NLP/opus-mt-tc-big-en-pt"
    assert isinstance(engine, TransformersEngine)
    summary = engine.summarize(["The cat sleeps on the mat. " * 20])
    assert summary[1] == SUMMARIZER and summary[0][0]


def test_a_pair_model_the_hub_does_not_have_is_reported_as_such_not_as_to_download(
    hub: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_repo(hub, "someone/opus-mt-en-pt")
    config = replace(
        hub_config(tmp_path / "models"),
        languages=("en", "pt"),
        translation_overrides={"en-pt": "someone/opus-mt-en-pt"},
    )
    events: list[tuple[str, str]] = []
    download_models(config, progress=lambda name, status: events.append((name, status)), endpoint=hub.url())
    assert ("someone/opus-mt-en-pt", "not_found") in events
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelUnavailableError, match="found no such model on the hub: name one that exists in feeds"):
        make_engine(config).translate(["The cat sleeps."], "en", "pt")
    never_tried = replace(config, translation_overrides={"en-pt": "someone/other-en-pt"})
    with pytest.raises(ModelUnavailableError, match="run `newsbot models download`"):
        make_engine(never_tried).translate(["The cat sleeps."], "en", "pt")


def test_a_model_that_must_exist_but_is_not_on_the_hub_fails_the_download(hub: FeedServer, tmp_path: Path) -> None:
    config = EngineConfig(model_dir=tmp_path, languages=("en",), summarizer_model="Helsinki-NLP/opus-mt-de-en")
    with pytest.raises(ModelDownloadError, match="'Helsinki-NLP/opus-mt-de-en' does not exist"):
        download_models(config, endpoint=hub.url())


def test_an_unreachable_hub_is_one_clear_error(tmp_path: Path) -> None:
    with FeedServer() as server:
        closed = server.url()
    with pytest.raises(ModelDownloadError, match=rf"could not fetch model '{SUMMARIZER}' from {closed}"):
        download_models(EngineConfig(model_dir=tmp_path, languages=("en",)), endpoint=closed)


def test_hf_endpoint_from_the_environment_is_honoured(hub: FeedServer, tmp_path: Path) -> None:
    """The CLI passes no endpoint: huggingface_hub reads HF_ENDPOINT when it is imported, as in a fresh process."""
    script = (
        "from pathlib import Path; from summarizer.download import download_models; "
        "from summarizer.types import EngineConfig; "
        f"print(download_models(EngineConfig(model_dir=Path({str(tmp_path)!r}), languages=('en',))))"
    )
    env = {**os.environ, "HF_ENDPOINT": hub.url().rstrip("/"), "HF_HUB_OFFLINE": "0", "HF_HUB_DISABLE_TELEMETRY": "1"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == repr([SUMMARIZER, "Helsinki-NLP/opus-mt-mul-en"])


def test_models_download_with_the_ctranslate2_backend_converts_what_it_fetched(
    hub: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`newsbot models download` in a fresh process, as an admin runs it: fetched by hub id, converted (int8), and
    then loaded offline by the ctranslate2 engine."""
    command, env = models_download(hub, tmp_path, ["en", "it"], "ctranslate2")
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "4 models cached" in done.stdout and "4 models converted for CTranslate2" in done.stdout
    assert f"{SUMMARIZER}: converted" in done.stderr
    # stderr is a pipe here, as in a log: one line per model and step, no third-party progress bars.
    assert "Loading weights" not in done.stderr and "model shards" not in done.stderr and "it/s" not in done.stderr

    hub.stop()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    config = replace(hub_config(tmp_path / "models"), backend="ctranslate2", languages=("en", "it"))
    assert missing_models(config) == []
    engine = make_engine(config)
    assert engine.translate(["Il gatto dorme."], "it", "en").model == "Helsinki-NLP/opus-mt-it-en"
    summary, model = engine.summarize(["The cat sleeps on the mat. " * 20])
    assert model == SUMMARIZER and summary[0]
    statuses: list[str] = []
    assert len(convert_models(config, progress=lambda _, status: statuses.append(status))) == 4
    assert statuses == ["up_to_date"] * 4  # converted once, not again on every download


def test_a_download_killed_halfway_leaves_no_model_that_looks_complete(
    hub: FeedServer, tiny_models: TinyModels, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`newsbot models download` killed while the summarizer's weights come in: its config and tokenizer are in the
    cache, which is all a cached model used to need to look complete; it stays missing until a download ends."""
    serve_repo(hub, SUMMARIZER, tiny_models.long_summarizer, stall_after=200_000)
    command, env = models_download(hub, tmp_path, ["en"], "transformers")
    repo = tmp_path / "models" / "models--sshleifer--distilbart-cnn-12-6"

    def under_way() -> bool:  # config and tokenizer in the snapshot, the weights coming in
        configs = list((repo / "snapshots").glob("*/config.json")) if (repo / "snapshots").is_dir() else []
        return bool(configs) and any(f.name.endswith(".incomplete") for f in _files(repo / "blobs"))

    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as child:
        deadline = time.monotonic() + 60
        while not under_way():
            assert child.poll() is None and time.monotonic() < deadline, "the weights never started to come in"
            time.sleep(0.1)
        child.kill()
    config = EngineConfig(model_dir=tmp_path / "models", languages=("en",))
    # The config in the snapshot is what made a cached model look complete: not any more.
    assert locate_model(SUMMARIZER, config.model_dir) is None and SUMMARIZER in missing_models(config)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelUnavailableError, match="newsbot models download"):
        make_engine(config).summarize(["The cat sleeps on the mat. " * 20])
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)

    serve_repo(hub, SUMMARIZER, tiny_models.long_summarizer)  # the hub answers whole again: the download goes on
    assert SUMMARIZER in download_models(config, endpoint=hub.url())
    assert locate_model(SUMMARIZER, config.model_dir) is not None and SUMMARIZER not in missing_models(config)


def models_download(
    hub: FeedServer, tmp_path: Path, languages: list[str], backend: str
) -> tuple[list[str], dict[str, str]]:
    """`newsbot models download` in a fresh process, as an admin runs it: the command and its environment (the local
    hub through HF_ENDPOINT, which huggingface_hub reads when imported; a feeds.yaml offering `languages`)."""
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(json.dumps({"settings": {"languages": languages}, "feeds": []}), encoding="utf-8")
    env = {
        **os.environ,
        "HF_ENDPOINT": hub.url().rstrip("/"),
        "HF_HUB_OFFLINE": "0",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "NEWSBOT_BACKEND": backend,
        "NEWSBOT_MODEL_DIR": str(tmp_path / "models"),
        "NEWSBOT_FEEDS": str(feeds),
    }
    return [sys.executable, "-c", "from bot.cli import app; app()", "models", "download"], env


def _files(folder: Path) -> list[Path]:
    return [f for f in folder.iterdir() if f.is_file()] if folder.is_dir() else []
