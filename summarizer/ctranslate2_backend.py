"""The ctranslate2 backend: the same models, converted at download time (summarizer/convert.py), generating with
CTranslate2 on CPU; tokenization stays the model's own (transformers), so both backends read and write the same tokens.

Greedy decoding equals the transformers backend's token for token: the options transformers reads from a model's
generation config (a forced first token, a forced last one, banned words, no repeated n-grams, penalties) are given
to CTranslate2 the way it expects them.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any

from summarizer.download import locate_converted, locate_model
from summarizer.errors import ModelNotConvertedError, ModelUnavailableError
from summarizer.seq2seq import Seq2SeqEngine, Seq2SeqModel
from summarizer.types import EngineConfig


class Ct2Seq2SeqModel(Seq2SeqModel):
    """A converted model on a ctranslate2.Translator, with the original model's tokenizer and generation options."""

    def __init__(
        self, name: str, tokenizer: Any, config: Any, translator: Any, generation: Any, vocab: set[str]
    ) -> None:
        super().__init__(name, tokenizer, config)
        self.translator = translator
        self.costs = _Costs.of(config)
        self.workers = max(1, int(translator.num_translators))
        self._options: dict[str, Any] = {
            "no_repeat_ngram_size": int(generation.no_repeat_ngram_size or 0),
            "repetition_penalty": float(generation.repetition_penalty or 1.0),
            "length_penalty": float(generation.length_penalty if generation.length_penalty is not None else 1.0),
            "max_input_length": 0,  # inputs are fitted (and truncated) by the tokenizer, as for transformers
        }
        banned = [tokenizer.convert_ids_to_tokens(ids) for ids in generation.bad_words_ids or []]
        # Marian's padding is dropped from the converted vocabulary (so it can never be emitted): nothing to ban.
        banned = [tokens for tokens in banned if all(token in vocab for token in tokens)]
        if banned:
            self._options["suppress_sequences"] = banned
        forced_bos = generation.forced_bos_token_id
        self._prefix = [tokenizer.convert_ids_to_tokens(forced_bos)] if forced_bos is not None else None
        # transformers turns the last allowed token into end-of-sentence; CTranslate2 stops one token earlier instead.
        self._forced_eos = generation.forced_eos_token_id is not None

    def generate(self, texts: Sequence[str], *, beams: int, min_new_tokens: int, max_new_tokens: int) -> list[str]:
        return self.generate_batches([texts], beams=beams, lengths=[(min_new_tokens, max_new_tokens)])[0]

    def generate_batches(
        self, batches: Sequence[Sequence[str]], *, beams: int, lengths: Sequence[tuple[int, int]]
    ) -> list[list[str]]:
        """Every batch submitted at once: the translator's workers (one per core) run them side by side, each
        batch with its own lengths (padding is masked: which texts share a batch changes only the speed).

        So that no worker waits while another works, a batch is cut where that makes the last worker finish sooner
        (_spread), and the costliest jobs go first, so the last to finish is a small one. Outputs come back per
        batch as given."""
        with self._lock:
            jobs = []
            for number, (texts, (low, high)) in enumerate(zip(batches, lengths, strict=True)):
                if not texts:
                    continue
                encoded = self.tokenizer(list(texts), truncation=True, max_length=self._max_input_with_specials)
                sources = [self.tokenizer.convert_ids_to_tokens(ids) for ids in encoded["input_ids"]]
                jobs.append(_Job(number, 0, sources, low, high, self.costs))
            jobs = _spread(jobs, self.workers)
            pending = [(job, self._submit(job, beams)) for job in sorted(jobs, key=lambda j: -j.cost)]
            outputs: list[list[str]] = [[""] * len(texts) for texts in batches]
            for job, results in pending:
                ids = [self.tokenizer.convert_tokens_to_ids(result.result().hypotheses[0]) for result in results]
                texts = self.tokenizer.batch_decode(ids, skip_special_tokens=True)
                outputs[job.batch][job.start : job.start + len(texts)] = [text.strip() for text in texts]
        return outputs

    def _submit(self, job: _Job, beams: int) -> Any:
        prefix = {"target_prefix": [self._prefix] * len(job.sources)} if self._prefix else {}
        longest = job.high - (1 if self._forced_eos else 0)
        return self.translator.translate_batch(
            job.sources,
            beam_size=beams,
            min_decoding_length=min(job.low, longest),  # a forced end outranks a minimum, as there
            max_decoding_length=longest,
            asynchronous=True,
            **prefix,
            **self._options,
        )


# How many int8 multiply-adds a core does in the time it reads one byte of weights it has not in cache: about 10 on
# an AVX-512 Xeon (a DistilBART decoding step, 138 MB of weights, took 18 ms whatever the batch; its encoder, 151 M
# multiply-adds a token, 1.8 ms a token). Only the ratio between jobs matters.
_MACS_PER_WEIGHT_BYTE = 10


@dataclass(frozen=True)
class _Costs:
    """A model's rough costs: a decoding step reads the decoder's weights (and the output layer's) once for the
    whole batch, so its cost barely grows with the batch; an input token goes through every encoder layer.

    CTranslate2 4.8 packs every linear weight for MKL at load except the output layer, which it multiplies unpacked
    at every step (MKL_VERBOSE: no pack call for DistilBART's 50,264 x 1,024 layer, 6.9 ms a step at 4 rows, even with
    the layer converted untied from the embeddings); that is why it counts in full here."""

    step: float
    token: float

    @classmethod
    def of(cls, config: Any) -> _Costs:
        """From a BART-family config (BART, Marian, Pegasus, M2M-100 name their sizes alike) or a T5 one (flan-t5:
        its attention may be narrower than the model, and a gated feed-forward has three matrices, not two)."""
        width = int(config.d_model)
        if getattr(config, "model_type", None) == "t5":
            attention = width * int(config.num_heads) * int(config.d_kv)
            ffn = (3 if config.is_gated_act else 2) * width * int(config.d_ff)
            encoder = int(config.num_layers) * (4 * attention + ffn)
            decoder = int(config.num_decoder_layers) * (6 * attention + ffn)
        else:
            encoder = int(config.encoder_layers) * (4 * width * width + 2 * width * int(config.encoder_ffn_dim))
            decoder = int(config.decoder_layers) * (6 * width * width + 2 * width * int(config.decoder_ffn_dim))
        return cls(step=_MACS_PER_WEIGHT_BYTE * (decoder + int(config.vocab_size) * width), token=encoder)


@dataclass(frozen=True)
class _Job:
    """A run of one given batch's texts (from `start`), tokenized, with the batch's (low, high) new tokens and its
    model's costs."""

    batch: int
    start: int
    sources: list[list[str]]
    low: int
    high: int
    costs: _Costs

    @cached_property
    def cost(self) -> float:
        """Every decoding step once, every input token padded to the longest."""
        longest = max(map(len, self.sources), default=0)
        return self.high * self.costs.step + len(self.sources) * longest * self.costs.token

    def split(self, at: int) -> tuple[_Job, _Job]:
        first = _Job(self.batch, self.start, self.sources[:at], self.low, self.high, self.costs)
        return first, _Job(self.batch, self.start + at, self.sources[at:], self.low, self.high, self.costs)


def _makespan(jobs: Sequence[_Job], workers: int) -> float:
    """When the last worker is done, the costliest jobs going first, each to the worker free soonest (as the
    translator's queue hands them out)."""
    loads = [0.0] * max(1, workers)
    for cost in sorted((job.cost for job in jobs), reverse=True):
        loads[loads.index(min(loads))] += cost
    return max(loads)


def _spread(jobs: list[_Job], workers: int) -> list[_Job]:
    """Jobs split, one cut at a time (the best of every cut point), while a cut lets the last worker finish sooner:
    a batch of 8 summaries to translate runs as 2 of 4 on 2 workers, and the engine benchmark's 3 summary batches
    as 4. Each cut costs a whole decoding, so most batches stay whole."""

    def rank(plan: list[_Job]) -> tuple[float, float]:  # sooner done, then less work
        return _makespan(plan, workers), sum(job.cost for job in plan)

    while True:
        best, best_rank = jobs, rank(jobs)
        for index, job in enumerate(jobs):
            for at in range(1, len(job.sources)):
                plan = [*jobs[:index], *job.split(at), *jobs[index + 1 :]]
                if (plan_rank := rank(plan)) < best_rank:
                    best, best_rank = plan, plan_rank
        if best is jobs:
            return jobs
        jobs = best


def load_ct2(name: str, config: EngineConfig, *, summarizer: bool = False) -> Ct2Seq2SeqModel:
    """A converted model and the original's tokenizer, config and generation options (never from the network);
    `summarizer` for the model the engine summarizes with, whose batches are few and long."""
    ctranslate2 = imported_ctranslate2()
    from transformers import AutoConfig, AutoTokenizer, GenerationConfig

    source, converted = _located(name, config)
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
    model_config = AutoConfig.from_pretrained(source, local_files_only=True)
    try:
        generation = GenerationConfig.from_pretrained(source, local_files_only=True)
    except OSError:  # no generation_config.json: the defaults, as transformers would use
        generation = GenerationConfig.from_model_config(model_config)
    # Batches side by side, one worker per core, rather than one batch over all cores: on 2 cores that ran the
    # translation steps' many short batches 1.9x as fast on one machine, 1.2 to 1.5x on another (benchmarks/
    # engine.py). Workers share the weights.
    workers = config.torch_threads or os.cpu_count() or 1
    # The summarizer's batches are few and long (capped by tokens), so one may run alone at the end. Each of its
    # workers gets 2 threads, so a worker left alone uses 2 cores; while all work, twice as many threads as cores
    # take turns (they sleep while they wait: imported_ctranslate2). Before batches were cut by cost (_spread), that
    # took 13% off the summary step on an AVX2 EPYC; with the cuts, on an AVX-512 Xeon, 1 thread or 2 made no
    # difference beyond noise (39.4 against 37.5-40.0 articles/min).
    threads = min(2, workers) if summarizer else 1
    # On a GPU: int8 weights with float16 activations; on CPU the converted model's own type (int8 when quantized).
    compute_type = "int8_float16" if config.device == "cuda" else "default"
    translator = ctranslate2.Translator(
        str(converted), device=config.device, compute_type=compute_type, inter_threads=workers, intra_threads=threads
    )
    return Ct2Seq2SeqModel(name, tokenizer, model_config, translator, generation, _vocabulary(converted))


def imported_ctranslate2() -> ModuleType:
    """ctranslate2, imported so that its OpenMP threads sleep rather than spin while they wait for work (unless
    OMP_WAIT_POLICY says otherwise): a spinning thread would hold the core another worker's thread needs.

    OpenMP reads the variable once, when ctranslate2's own copy of it loads (its wheel bundles its own libgomp);
    it is taken away after, so torch's OpenMP (another copy, loaded before or after) keeps its default. The one
    place outside bot/config.py that touches the environment: a library's load-time knob, not a setting."""
    if "ctranslate2" not in sys.modules:
        unset = "OMP_WAIT_POLICY" not in os.environ
        if unset:
            os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
        try:
            importlib.import_module("ctranslate2")
        finally:
            if unset:
                os.environ.pop("OMP_WAIT_POLICY", None)
    return sys.modules["ctranslate2"]


def _located(name: str, config: EngineConfig) -> tuple[Path, Path]:
    """(the cached model, its up-to-date conversion), or the error saying which of the two is missing."""
    source = locate_model(name, config.model_dir)
    if source is None:
        raise ModelUnavailableError(name, config.model_dir)
    converted = locate_converted(name, config)
    if converted is None:
        raise ModelNotConvertedError(name, config.model_dir)
    return source, converted


def _vocabulary(converted: Path) -> set[str]:
    """The target tokens of a converted model (the converter writes them as a JSON list)."""
    for file in ("shared_vocabulary.json", "target_vocabulary.json"):
        if (converted / file).exists():
            return set(json.loads((converted / file).read_text(encoding="utf-8")))
    return set()


class CTranslate2Engine(Seq2SeqEngine):
    """The engine on CTranslate2: the same models and pipeline as the transformers backend, converted."""

    def _check_available(self, name: str, config: EngineConfig) -> None:
        _located(name, config)

    def _load(self, name: str, *, summarizer: bool = False) -> Seq2SeqModel:
        return load_ct2(name, self.config, summarizer=summarizer)
