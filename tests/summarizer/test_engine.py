"""The engine factory picks the configured backend, names the models a config needs, and imports no model library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from summarizer.engine import make_engine
from summarizer.errors import EngineError, ModelUnavailableError
from summarizer.models import configured_models, translation_route
from summarizer.transformers_backend import TransformersEngine
from summarizer.types import Article, EngineConfig
from tests.corpora import ROOT
from tests.tinymodels import TinyModels


def test_importing_the_engine_pulls_in_neither_torch_nor_transformers() -> None:
    script = (
        "import sys, summarizer, summarizer.engine, summarizer.errors, summarizer.transformers_backend; "
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_transformers_is_the_default_backend(tiny_models: TinyModels) -> None:
    assert isinstance(make_engine(tiny_models.config()), TransformersEngine)


def test_extractive_backend_needs_no_model_dir(tmp_path: Path) -> None:
    engine = make_engine(EngineConfig(backend="extractive", model_dir=tmp_path / "nowhere"))
    enriched = engine.process(Article(title="A title", text="One sentence here. Another sentence there."))
    assert enriched.summary_en
    assert not (tmp_path / "nowhere").exists()


def test_a_configured_transformers_backend_is_never_replaced_by_the_extractive_one(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError):
        make_engine(EngineConfig(backend="transformers", model_dir=tmp_path))


def test_an_unknown_backend_is_an_error() -> None:
    with pytest.raises(EngineError, match="unknown engine backend 'gpt'"):
        make_engine(EngineConfig(backend="gpt"))


def test_configured_models_cover_both_directions_of_each_language_plus_summarizer_and_fallback() -> None:
    config = EngineConfig(languages=("en", "it", "ja"), translation_overrides={"en-ja": "./models/my-en-ja"})
    assert configured_models(config) == [
        "sshleifer/distilbart-cnn-12-6",
        "Helsinki-NLP/opus-mt-it-en",
        "Helsinki-NLP/opus-mt-en-it",
        "Helsinki-NLP/opus-mt-ja-en",
        "./models/my-en-ja",
        "Helsinki-NLP/opus-mt-mul-en",
    ]
    assert configured_models(config, ["de"])[1:3] == ["Helsinki-NLP/opus-mt-de-en", "Helsinki-NLP/opus-mt-en-de"]
    assert (route := translation_route(config, "en", "ja")) is not None and route.name == "./models/my-en-ja"
