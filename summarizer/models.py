"""The model map: which model translates one language pair (with the target-language token a multi-target model
needs), which one summarizes, and which covers any language into English. Pure data and lookups: it imports no model
library and nothing else of the engine, and everything that needs to know a model asks here.

Every default below was checked against its Hugging Face model page (card, file list, tokenizer config); the page
is kept with it and listed in docs/configuration.md. Per-pair OPUS-MT models where they exist; where they do not
(pt↔en, en→ja), the model the card says covers the pair; `>>id<<` tokens as the cards give them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from summarizer.types import UNDETERMINED, EngineConfig

ENGLISH = "en"
IDENTITY = "identity"  # the "model" that translates a language into itself
_HUB = "https://huggingface.co/"


@dataclass(frozen=True)
class ModelRef:
    """A model setting (hub id or local path) and what using it for one direction takes."""

    name: str
    token: str | None = None  # put before every source text: a multi-target model's target language (">>por<<")
    licence: str | None = None
    size_mb: int | None = None  # of the checkpoint on the hub

    @property
    def page(self) -> str | None:
        """The hub page the default was checked against (None for a local path)."""
        return _HUB + self.name if "/" in self.name and not self.name.startswith((".", "/", "~")) else None


def _opus(pair: str, licence: str, size_mb: int, token: str | None = None) -> ModelRef:
    return ModelRef(f"Helsinki-NLP/{pair}", token, licence, size_mb)


# (source, target) -> the default model. cc-by-4.0 models ask for attribution: docs/configuration.md credits OPUS-MT.
DEFAULT_PAIRS: dict[tuple[str, str], ModelRef] = {
    ("it", "en"): _opus("opus-mt-it-en", "apache-2.0", 344),
    ("en", "it"): _opus("opus-mt-en-it", "apache-2.0", 343),
    ("de", "en"): _opus("opus-mt-de-en", "apache-2.0", 298),
    ("en", "de"): _opus("opus-mt-en-de", "cc-by-4.0", 298),
    ("fr", "en"): _opus("opus-mt-fr-en", "apache-2.0", 301),
    ("en", "fr"): _opus("opus-mt-en-fr", "apache-2.0", 301),
    ("es", "en"): _opus("opus-mt-es-en", "apache-2.0", 312),
    ("en", "es"): _opus("opus-mt-en-es", "apache-2.0", 312),
    # No opus-mt-pt-en or opus-mt-en-pt exists: Romance languages into English, and the big multi-target model out.
    ("pt", "en"): _opus("opus-mt-ROMANCE-en", "apache-2.0", 312),
    ("en", "pt"): _opus("opus-mt-tc-big-en-pt", "cc-by-4.0", 465, token=">>por<<"),
    ("ru", "en"): _opus("opus-mt-ru-en", "cc-by-4.0", 307),
    ("en", "ru"): _opus("opus-mt-en-ru", "apache-2.0", 307),
    ("ja", "en"): _opus("opus-mt-ja-en", "apache-2.0", 303),
    # Not opus-mt-en-jap: "jap" there is a Bible corpus, not Japanese.
    ("en", "ja"): _opus("opus-tatoeba-en-ja", "apache-2.0", 222),
    ("zh", "en"): _opus("opus-mt-zh-en", "cc-by-4.0", 312),
    ("en", "zh"): _opus("opus-mt-en-zh", "apache-2.0", 312, token=">>cmn_Hans<<"),
}
DEFAULT_FALLBACK = _opus("opus-mt-mul-en", "apache-2.0", 310)  # about 120 source languages into English, no token
DEFAULT_SUMMARIZER = ModelRef("sshleifer/distilbart-cnn-12-6", None, "apache-2.0", 1222)
# What docs/configuration.md suggests for NEWSBOT_QA_MODEL, which has no default (unset, answers quote the stories).
SUGGESTED_QA = ModelRef("google/flan-t5-base", None, "apache-2.0", 990)


def translation_route(config: EngineConfig, src: str, tgt: str) -> ModelRef | None:
    """The model for one direction: a per-pair override, else the configured pattern, else the default map; None
    when nothing covers the pair (into English, `fallback` may still)."""
    key = f"{src}-{tgt}"
    token = config.translation_tokens.get(key)
    if key in config.translation_overrides:
        return ModelRef(config.translation_overrides[key], token)
    if config.translation_model_pattern is not None:
        return ModelRef(config.translation_model_pattern.format(src=src, tgt=tgt), token)
    found = DEFAULT_PAIRS.get((src, tgt))
    if found is None:
        return None
    return ModelRef(found.name, token or found.token, found.licence, found.size_mb)


def fallback(config: EngineConfig) -> ModelRef:
    """The model for any language into English, when its own pair has none (or it is not available)."""
    if config.fallback_to_english_model is None:
        return DEFAULT_FALLBACK
    name = config.fallback_to_english_model
    return DEFAULT_FALLBACK if name == DEFAULT_FALLBACK.name else ModelRef(name)


def summarizer(config: EngineConfig) -> ModelRef:
    name = config.summarizer_model
    return DEFAULT_SUMMARIZER if name is None or name == DEFAULT_SUMMARIZER.name else ModelRef(name)


def answer_model(config: EngineConfig) -> ModelRef | None:
    """The model that writes /ask answers, if one is set."""
    name = config.qa_model
    if name is None:
        return None
    return SUGGESTED_QA if name == SUGGESTED_QA.name else ModelRef(name)


def routes(config: EngineConfig, src: str, tgt: str) -> list[ModelRef]:
    """What may translate `src` into `tgt`, in the order to try: its own model, then into English the fallback."""
    found = [translation_route(config, src, tgt)] if src != UNDETERMINED else []
    if tgt == ENGLISH:
        found.append(fallback(config))
    return [r for r in found if r is not None]


def no_path(config: EngineConfig, lang: str) -> str | None:
    """Why a reader of `lang` cannot be served (no model out of English), or None when one can."""
    if lang == ENGLISH or translation_route(config, ENGLISH, lang) is not None:
        return None
    return f"no model translates English into {lang!r}: set translation_overrides: {{en-{lang}: MODEL}} in feeds.yaml"


def configured_models(config: EngineConfig, languages: Iterable[str] | None = None) -> list[str]:
    """Every model the engine may load for these languages (default: the configured ones), deduplicated."""
    names = [summarizer(config).name]
    for lang in config.languages if languages is None else languages:
        if lang not in (ENGLISH, UNDETERMINED):
            for route in (translation_route(config, lang, ENGLISH), translation_route(config, ENGLISH, lang)):
                if route is not None:
                    names.append(route.name)
    names.append(fallback(config).name)
    return list(dict.fromkeys(names))


def served_models(config: EngineConfig, languages: Iterable[str] | None = None) -> list[str]:
    """What `newsbot models download` fetches (and converts): the engine's models and the one that writes answers."""
    qa = answer_model(config)
    return list(dict.fromkeys([*configured_models(config, languages), *([qa.name] if qa is not None else [])]))
