"""Converts cached models for the ctranslate2 backend with CTranslate2's own converter (int8 when quantizing), at
`newsbot models download` time; the engine only loads what is here."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

from summarizer.ctranslate2_backend import imported_ctranslate2
from summarizer.download import CONVERTED_FROM, converted_path, locate_converted, locate_model, source_stamp
from summarizer.errors import ModelDownloadError
from summarizer.models import served_models
from summarizer.types import EngineConfig

ConvertStatus = Literal["converting", "converted", "up_to_date", "not_cached"]


def convert_model(name: str, config: EngineConfig) -> Path | None:
    """The CTranslate2 model for a setting, converted now unless an up-to-date one is there; None when the model itself
    is not here. Written beside its final place and renamed in, so a failed conversion leaves nothing half made."""
    done = locate_converted(name, config)
    if done is not None:
        return done
    source = locate_model(name, config.model_dir)
    if source is None:
        return None
    target = converted_path(name, config)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    try:
        _converter(str(source)).convert(str(partial), quantization="int8" if config.quantize else None, force=True)
    # The converter loads the model with transformers and fails through it (unsupported architecture, bad files).
    except Exception as e:
        shutil.rmtree(partial, ignore_errors=True)
        raise ModelDownloadError(f"could not convert model {name!r} for CTranslate2: {e}") from e
    (partial / CONVERTED_FROM).write_text(json.dumps(source_stamp(source)), encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def _converter(source: str) -> Any:
    """CTranslate2's converter for transformers models, reading T5's output scale where transformers 5 keeps it.

    transformers 5 always ties T5's embeddings (`tie_word_embeddings` is forced true) and keeps whether a checkpoint
    scales the decoder's output by d_model^-0.5 in `scale_decoder_outputs`: T5 1.0 does, T5 1.1 and flan-t5 do not.
    CTranslate2 4.8's converter still reads `tie_word_embeddings`, so it would scale flan-t5's logits that transformers
    leaves alone (a tiny flan-t5: log-probabilities -7.1 where transformers gives -22.8; tests/summarizer/test_t5.py)."""
    imported_ctranslate2()  # before its converters: they import it
    from ctranslate2.converters import TransformersConverter

    class Converter(TransformersConverter):
        def load_model(self, model_class: Any, model_name_or_path: str, **kwargs: Any) -> Any:
            model = super().load_model(model_class, model_name_or_path, **kwargs)
            scaled = getattr(model.config, "scale_decoder_outputs", None)
            if scaled is not None:
                model.config.tie_word_embeddings = bool(scaled)
            return model

    return Converter(source)


def convert_models(
    config: EngineConfig,
    languages: Iterable[str] | None = None,
    *,
    progress: Callable[[str, ConvertStatus], None] | None = None,
) -> list[str]:
    """Convert every configured model that is cached; returns those now converted (a model not downloaded is
    reported "not_cached" and skipped, as the download skips one the hub lacks)."""
    converted = []
    for name in served_models(config, languages):
        if locate_converted(name, config) is not None:
            status: ConvertStatus = "up_to_date"
        elif locate_model(name, config.model_dir) is None:
            status = "not_cached"
        else:
            if progress is not None:
                progress(name, "converting")
            convert_model(name, config)
            status = "converted"
        if progress is not None:
            progress(name, status)
        if status != "not_cached":
            converted.append(name)
    return converted
