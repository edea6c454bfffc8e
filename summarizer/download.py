"""Fetches the configured models from the hub into the model cache and finds them there (and their CTranslate2
conversions, which summarizer/convert.py makes); never loads or runs a model."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from fnmatch import fnmatch
from pathlib import Path
from typing import Literal

from huggingface_hub import HfApi, snapshot_download, try_to_load_from_cache
from huggingface_hub.errors import HFValidationError, RepositoryNotFoundError
from huggingface_hub.file_download import repo_folder_name

from summarizer.errors import ModelDownloadError, not_on_hub
from summarizer.models import ModelRef, answer_model, configured_models, routes, served_models, translation_route
from summarizer.types import EngineConfig

log = logging.getLogger(__name__)

DownloadStatus = Literal["local", "fetching", "done", "not_found"]
ProgressCallback = Callable[[str, DownloadStatus], None]
# (model, bytes of it on disk so far, its total in bytes or None when the hub does not say), every few seconds.
BytesCallback = Callable[[str, int, int | None], None]
BYTES_EVERY = 5.0  # seconds between two byte counts of one model
# Under the model cache: a file per model being fetched, there from before the first byte until the last. A model
# with one is not complete, whatever its files say: the download was cut (killed, power lost) and must go on.
FETCHING_DIR = "newsbot-fetching"

# What AutoTokenizer and AutoModelForSeq2SeqLM read (Marian: *.spm + vocab.json; BART: vocab.json + merges.txt);
# the TensorFlow, Flax, Rust and ONNX copies of the weights that hub repos also carry are never needed.
_CONFIG_AND_TOKENIZER_FILES = (
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "merges.txt",
    "*.spm",
)


def locate_model(name: str, model_dir: Path) -> Path | None:
    """The directory a model setting loads from: the setting itself if it is a directory, else its cached snapshot
    (not while its download is under way or was cut short)."""
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    if fetching_marker(model_dir, name).exists():
        return None
    try:
        found = try_to_load_from_cache(name, "config.json", cache_dir=model_dir)
    except HFValidationError:  # neither a directory nor a well-formed hub id: a path that does not exist
        return None
    return Path(found).parent if isinstance(found, str) else None


# Under the model cache: one directory per converted model and quantization, with a note of what it was made from.
CONVERTED_DIR = "ctranslate2"
CONVERTED_FROM = "newsbot-source.json"


def converted_path(name: str, config: EngineConfig) -> Path:
    """Where the CTranslate2 conversion of a model setting lives (whether or not it exists)."""
    path = Path(name).expanduser()
    if path.is_dir():  # a local directory: its name, and a hash of where it is, so two ./model dirs do not collide
        slug = f"{path.name}-{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:8]}"
    else:
        slug = name.replace("/", "--")
    return config.model_dir / CONVERTED_DIR / f"{slug}-{'int8' if config.quantize else 'float32'}"


def source_stamp(source: Path) -> dict[str, object]:
    """What a conversion was made from: the snapshot directory and when its files last changed."""
    stamp = max((f.stat().st_mtime_ns for f in source.iterdir() if f.is_file()), default=0)
    return {"source": str(source.resolve()), "stamp": stamp}


def locate_converted(name: str, config: EngineConfig) -> Path | None:
    """The CTranslate2 conversion of a model setting, if there is one made from the model as it is now."""
    source = locate_model(name, config.model_dir)
    if source is None:
        return None
    target = converted_path(name, config)
    try:
        made_from = json.loads((target / CONVERTED_FROM).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return target if made_from == source_stamp(source) else None


def model_available(name: str, config: EngineConfig) -> bool:
    """Whether the configured backend can load this model setting now (ctranslate2: converted, and up to date)."""
    if config.backend == "ctranslate2":
        return locate_converted(name, config) is not None
    return locate_model(name, config.model_dir) is not None


def cached_route(config: EngineConfig, src: str, tgt: str) -> ModelRef | None:
    """The first model the engine would try for `src` -> `tgt` that is here (its own, then into English the fallback)."""
    return next((r for r in routes(config, src, tgt) if model_available(r.name, config)), None)


def missing_models(config: EngineConfig, languages: Iterable[str] | None = None) -> list[str]:
    """The configured models the backend cannot load now: not downloaded (or, for ctranslate2, not converted). The
    extractive backend loads none of the engine's, only the one that writes answers, if one is set."""
    if config.backend == "extractive":
        names = [qa.name] if (qa := answer_model(config)) is not None else []
    else:
        names = served_models(config, languages)
    return [name for name in names if not model_available(name, config)]


def models_fingerprint(config: EngineConfig) -> str:
    """A short hash of which models this config would load and which of them are on disk (and since when).

    It changes when an admin downloads a model, replaces one, or changes a model setting: stories that failed with
    the old set are then worth trying again at once.
    """
    parts = [config.backend]
    if config.backend != "extractive":
        for name in configured_models(config):
            found = locate_model(name, config.model_dir)
            parts.append(f"{name}={found.stat().st_mtime_ns if found is not None else '-'}")
            if config.backend == "ctranslate2":
                parts.append(f"converted={locate_converted(name, config) is not None}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def fetching_marker(model_dir: Path, name: str) -> Path:
    return model_dir / FETCHING_DIR / name.replace("/", "--")


def download_models(
    config: EngineConfig,
    languages: Iterable[str] | None = None,
    *,
    progress: ProgressCallback | None = None,
    endpoint: str | None = None,
    bytes_progress: BytesCallback | None = None,
    every: float = BYTES_EVERY,
    only: Iterable[str] | None = None,
) -> list[str]:
    """Fetch every configured model into `config.model_dir`; returns the hub ids that are now cached.

    `endpoint` defaults to huggingface_hub's, which honours `HF_ENDPOINT`. A translation model the hub does not have
    (an override or pattern naming a model that does not exist) is reported as "not_found" and skipped: into English
    the multilingual fallback covers its language; out of English that language then gets no translations until an
    override names a model for it. A missing
    summarizer or fallback model, or any other failure, raises ModelDownloadError. `progress(model, status)` is called
    with "fetching" then "done" (or "not_found") per model, or "local" for a setting that is a local directory;
    `bytes_progress(model, on_disk, total)` every `every` seconds while a model is fetched, and once at its end. A
    model cut short (the process killed) is missing until a later download completes it. `only`: fetch just these
    of the configured models (the missing ones).
    """
    api = HfApi(endpoint=endpoint)
    langs = list(config.languages if languages is None else languages)
    pairs = [(lang, "en") for lang in langs] + [("en", lang) for lang in langs]
    optional = {r.name for a, b in pairs if (r := translation_route(config, a, b)) is not None}
    optional -= {config.summarizer_model, config.fallback_to_english_model}
    fetched: list[str] = []
    wanted = None if only is None else set(only)
    for name in served_models(config, langs):
        if wanted is not None and name not in wanted:
            continue
        if Path(name).expanduser().is_dir():
            _report(progress, name, "local")
            continue
        _report(progress, name, "fetching")
        marker = fetching_marker(config.model_dir, name)
        try:
            info = api.model_info(name, files_metadata=True)
            siblings = info.siblings or []
            files = _files_to_fetch([sibling.rfilename for sibling in siblings])
            sizes = [s.size for s in siblings if s.rfilename in files]
            total = sum(size for size in sizes if size) if sizes and all(sizes) else None
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
            with _counting_bytes(config.model_dir, name, total, bytes_progress, every):
                snapshot_download(name, cache_dir=config.model_dir, allow_patterns=files, endpoint=endpoint)
            marker.unlink()
            not_on_hub(config.model_dir, name).unlink(missing_ok=True)  # it exists now after all
        except RepositoryNotFoundError as e:
            if name not in optional:
                raise ModelDownloadError(
                    f"model {name!r} does not exist on {api.endpoint}; check the model setting"
                ) from e
            log.info("%s is not on %s; skipped", name, api.endpoint)
            marker = not_on_hub(config.model_dir, name)
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(f"{api.endpoint}\n", encoding="utf-8")
            _report(progress, name, "not_found")
            continue
        # The hub client fails through several layers (its own HTTP errors, httpx, OS errors): any of them means
        # this model could not be fetched, which the caller reports as one sentence.
        except Exception as e:
            raise ModelDownloadError(f"could not fetch model {name!r} from {api.endpoint}: {e}") from e
        _report(progress, name, "done")
        fetched.append(name)
    return fetched


@contextmanager
def _counting_bytes(
    model_dir: Path, name: str, total: int | None, report: BytesCallback | None, every: float
) -> Iterator[None]:
    """While the block runs, report the bytes of the model's cache folder every `every` seconds (files still being
    written included), and once more at the end."""
    if report is None:
        yield
        return
    reporter = report  # for the thread below: its type narrowed
    blobs = model_dir / repo_folder_name(repo_id=name, repo_type="model") / "blobs"
    done = threading.Event()

    def on_disk() -> int:
        try:
            return sum(f.stat().st_size for f in blobs.iterdir() if f.is_file())
        except OSError:  # not made yet, or a file renamed under us: the next count sees it
            return 0

    def count() -> None:
        while not done.wait(every):
            reporter(name, on_disk(), total)

    counter = threading.Thread(target=count, name=f"bytes of {name}", daemon=True)
    counter.start()
    try:
        yield
    finally:
        done.set()
        counter.join()
    report(name, on_disk(), total)


def _files_to_fetch(repo_files: list[str]) -> list[str]:
    """Config, tokenizer and one weights format: safetensors when the repo has it, else the PyTorch pickle."""
    top_level = [name for name in repo_files if "/" not in name]
    wanted = [name for name in top_level if any(fnmatch(name, pattern) for pattern in _CONFIG_AND_TOKENIZER_FILES)]
    weights = [name for name in top_level if name.startswith("model") and ".safetensors" in name]
    if not weights:
        weights = [name for name in top_level if name.startswith("pytorch_model") and ".bin" in name]
    return wanted + weights


def _report(progress: ProgressCallback | None, name: str, status: DownloadStatus) -> None:
    if progress is not None:
        progress(name, status)
