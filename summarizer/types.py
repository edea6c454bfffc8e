"""Data and roles of the language engine: what goes in, what comes out, and the Protocols backends implement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

UNDETERMINED = "und"

DEFAULT_LANGUAGES: tuple[str, ...] = ("en", "it", "de", "fr", "es", "pt", "ru", "ja", "zh")


@dataclass(frozen=True)
class Detection:
    lang: str  # ISO 639-1 code: a configured language, another one lingua knows (pivoted only), or "und"
    confidence: float  # 0..1


@dataclass(frozen=True)
class Article:
    title: str
    text: str
    lang_hint: str | None = None  # a feed's declared language, if any


@dataclass(frozen=True)
class Translation:
    texts: list[str]
    model: str  # model id or path used; "identity" when source == target; "none" when not translated
    translated: bool = True


@dataclass(frozen=True)
class Enriched:
    lang: str
    lang_confidence: float
    title_en: str
    text_en: str
    summary_en: str
    models: dict[str, str] = field(default_factory=dict)  # role ("translate", "summarize", ...) -> model id/path
    translated: bool = True  # False when the backend could not translate (extractive): fields stay in `lang`


@dataclass(frozen=True)
class EngineConfig:
    """Everything the engine needs; the app builds it from Settings and feeds.yaml."""

    backend: str = "transformers"  # or "ctranslate2", "extractive"
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    model_dir: Path = Path("./models")
    summarizer_model: str = "sshleifer/distilbart-cnn-12-6"
    # Which model translates a pair: a per-pair override, else this pattern ({src}/{tgt} filled per pair) when set,
    # else the verified default map (summarizer/models.py). A multi-target model's token: translation_tokens.
    translation_model_pattern: str | None = None
    translation_overrides: dict[str, str] = field(default_factory=dict)  # "it-en" -> id or path
    translation_tokens: dict[str, str] = field(default_factory=dict)  # "en-pt" -> ">>pob<<"
    fallback_to_english_model: str = "Helsinki-NLP/opus-mt-mul-en"
    # The model that writes /ask answers from retrieved passages (NEWSBOT_QA_MODEL); None: answers quote the stories.
    # Fetched and converted with the others, loaded on the same backend; never part of a story's enrichment.
    qa_model: str | None = None
    quantize: bool = True
    torch_threads: int | None = None
    max_loaded_pairs: int = 4
    translate_beams: int = 2
    # A sentence's translation gets at most ceil(source tokens × max_ratio) + extra_tokens new tokens, and at least
    # source tokens × min_ratio (per batch: of its longest sentence); min_ratio > 0 only to force lengths (benchmarks).
    translate_max_ratio: float = 1.5
    translate_extra_tokens: int = 10
    translate_min_ratio: float = 0.0
    summary_beams: int = 4
    summary_max_tokens: int = 142
    summary_min_tokens: int = 30
    batch_size: int = 8
    # Where the models run: "cpu", or "cuda" (CTranslate2 int8_float16, torch float16); never part of what a
    # worker's models are (a GPU worker and a CPU worker serve the same jobs).
    device: str = "cpu"


class LanguageDetector(Protocol):
    def detect(self, text: str, hint: str | None = None) -> Detection: ...


class Translator(Protocol):
    def translate(self, texts: Sequence[str], src: str, tgt: str) -> Translation: ...


class Summarizer(Protocol):
    def summarize(self, texts: Sequence[str]) -> tuple[list[str], str]:
        """English texts in, (English summaries, model id) out."""
        ...


class Engine(Protocol):
    config: EngineConfig

    def detect_language(self, text: str, hint: str | None = None) -> Detection: ...

    def process(self, article: Article) -> Enriched: ...

    def process_many(self, articles: Sequence[Article]) -> list[Enriched]: ...

    def translate(self, texts: Sequence[str], src: str, tgt: str) -> Translation: ...


class Embedder(Protocol):
    """Texts to L2-normalised float32 vectors (rows); queries and passages may be embedded differently (E5);
    `threads` caps the native thread pools for that call."""

    name: str
    dim: int
    multilingual: bool  # False: give it English (the pivot)

    def queries(self, texts: Sequence[str], *, threads: int | None = None) -> Any: ...

    def passages(self, texts: Sequence[str], *, threads: int | None = None) -> Any: ...
