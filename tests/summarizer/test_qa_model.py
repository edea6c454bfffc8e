"""NEWSBOT_QA_MODEL beside the engine's models: `models download` fetches it (and converts it for ctranslate2), a
missing one is listed, it loads on the configured backend, and changing it redoes no story's enrichment."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from summarizer.convert import convert_models
from summarizer.ctranslate2_backend import Ct2Seq2SeqModel
from summarizer.download import download_models, missing_models, models_fingerprint
from summarizer.engine import load_model
from summarizer.models import SUGGESTED_QA, answer_model, served_models
from summarizer.transformers_backend import TorchSeq2SeqModel
from tests.corpora import flores_lines
from tests.fakehub import hub, hub_config, serve_repo
from tests.httpserver import FeedServer
from tests.tinymodels import TinyModels

__all__ = ["hub"]  # the fixture, used by name


def test_the_qa_model_is_fetched_converted_and_loaded_on_the_configured_backend(
    hub: FeedServer, tiny_models: TinyModels, tmp_path: Path
) -> None:
    serve_repo(hub, SUGGESTED_QA.name, tiny_models.flan_t5)
    config = replace(hub_config(tmp_path / "models"), backend="ctranslate2", qa_model=SUGGESTED_QA.name, quantize=False)
    assert answer_model(config) == SUGGESTED_QA  # with its licence and size for `models list`
    assert served_models(config)[-1] == SUGGESTED_QA.name
    assert SUGGESTED_QA.name in missing_models(config)

    assert SUGGESTED_QA.name in download_models(config, ["it"], endpoint=hub.url())  # whatever the languages
    assert SUGGESTED_QA.name in missing_models(config)  # cached, not yet converted
    assert SUGGESTED_QA.name in convert_models(config)
    assert SUGGESTED_QA.name not in missing_models(config)

    prompts = [f"question: {line} context: [1] {line}" for line in flores_lines("eng_Latn", 3)]
    on_ct2 = load_model(SUGGESTED_QA.name, config)
    on_torch = load_model(SUGGESTED_QA.name, replace(config, backend="transformers"))
    assert isinstance(on_ct2, Ct2Seq2SeqModel) and isinstance(on_torch, TorchSeq2SeqModel)
    options = {"beams": 1, "min_new_tokens": 1, "max_new_tokens": 8}
    written = on_ct2.generate(prompts, **options)
    assert len(set(written)) == 3 and written == on_torch.generate(prompts, **options)


def test_the_extractive_backend_misses_only_the_qa_model_and_enrichment_ignores_it(
    tiny_models: TinyModels, tmp_path: Path
) -> None:
    config = replace(tiny_models.config(backend="extractive"), qa_model=str(tmp_path / "no-such-model"))
    assert missing_models(config) == [str(tmp_path / "no-such-model")]
    assert missing_models(replace(config, qa_model=str(tiny_models.flan_t5))) == []
    assert missing_models(replace(config, qa_model=None)) == []
    engine = tiny_models.config()
    # Stories are enriched again when this changes: a new answer model is no reason to.
    assert models_fingerprint(engine) == models_fingerprint(replace(engine, qa_model=str(tiny_models.flan_t5)))
