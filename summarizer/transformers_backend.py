"""The transformers backend: OPUS-MT and DistilBART loaded with transformers, generating with torch on CPU (int8
dynamic quantization when configured); never downloads. The engine's work itself is summarizer/seq2seq.py."""

from __future__ import annotations

import gc
import warnings
from collections.abc import Sequence
from functools import cache
from typing import Any

from summarizer.download import locate_model
from summarizer.errors import ModelUnavailableError
from summarizer.seq2seq import Seq2SeqEngine, Seq2SeqModel
from summarizer.types import EngineConfig


class TorchSeq2SeqModel(Seq2SeqModel):
    """A transformers model generating with torch."""

    def __init__(self, name: str, tokenizer: Any, model: Any) -> None:
        super().__init__(name, tokenizer, model.config)
        self.model = model

    def generate(self, texts: Sequence[str], *, beams: int, min_new_tokens: int, max_new_tokens: int) -> list[str]:
        import torch

        # Callers fit inputs to max_input_tokens already; truncation only keeps the one thing fitting cannot cut, a
        # single character the tokenizer counts longer than an input, from overrunning the position table.
        options: dict[str, Any] = {"cache": _beam_search_cache(self.model.config)} if beams > 1 else {}
        with self._lock, torch.inference_mode():
            inputs = self.tokenizer(
                list(texts),
                return_tensors="pt",
                padding=True,
                truncation=True,
                max_length=self._max_input_with_specials,
            )
            inputs = inputs.to(self.model.device)
            output = self.model.generate(
                **inputs, num_beams=beams, min_new_tokens=min_new_tokens, max_new_tokens=max_new_tokens, **options
            )
            decoded = self.tokenizer.batch_decode(output, skip_special_tokens=True)
        return [text.strip() for text in decoded]


def load_seq2seq(name: str, config: EngineConfig) -> TorchSeq2SeqModel:
    """Load a model setting (a hub id from `config.model_dir`, or a local directory), optionally int8-quantized."""
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    if config.torch_threads:
        torch.set_num_threads(config.torch_threads)
    # Never from the network: a worker must not stall mid-article on a multi-GB download; the CLI fetches models.
    options: dict[str, Any] = {"cache_dir": str(config.model_dir), "local_files_only": True}
    try:
        tokenizer = AutoTokenizer.from_pretrained(name, **options)
        model = AutoModelForSeq2SeqLM.from_pretrained(name, **options)
    except OSError as e:
        raise ModelUnavailableError(name, config.model_dir) from e
    model.eval()
    if config.device == "cuda":  # float16 on the GPU; dynamic int8 quantization is a CPU kernel
        model.to(device="cuda", dtype=torch.float16)
    elif config.quantize:
        _quantize_linear_layers(model)
    return TorchSeq2SeqModel(name, tokenizer, model)


def _quantize_linear_layers(model: Any) -> None:
    """Dynamic int8 for every Linear layer, in place: ~3× faster generation on CPU, a quarter of the weight memory."""
    import torch
    from torch.ao.quantization import quantize_dynamic

    # transformers leaves the weights memory-mapped from the checkpoint, and quantization reads every page. What
    # outlives quantization (embeddings, norms, biases, buffers) is copied out of the mapping first, so that nothing
    # refers to it once the Linear layers are replaced and it is released: otherwise DistilBART's 1.2 GB of fp32 pages
    # stay resident beside the int8 copy.
    linear = torch.nn.Linear
    replaced = {id(m.weight) for m in model.modules() if type(m) is linear}
    replaced -= {id(p) for m in model.modules() if type(m) is not linear for p in m.parameters(recurse=False)}
    with torch.no_grad():
        for param in model.parameters():
            if id(param) not in replaced:
                param.data = param.data.clone()
        for module in model.modules():
            for name, buffer in list(module._buffers.items()):
                if buffer is not None:
                    # A new tensor rather than `.data =`: a buffer loaded as a view would keep its mapped base alive.
                    module._buffers[name] = buffer.clone()
    with warnings.catch_warnings():
        # torch marks eager-mode quantization deprecated in favour of torchao (not a dependency of ours); on the
        # pinned torch it works, and the warnings would repeat for every model loaded.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*", category=UserWarning)
        quantize_dynamic(model, {linear}, dtype=torch.qint8, inplace=True)
    # The replaced layers sit in reference cycles: collected now, the mapping goes before the next model loads.
    gc.collect()


@cache
def _beam_cache_class() -> type:
    from transformers.cache_utils import EncoderDecoderCache

    class BeamSearchCache(EncoderDecoderCache):
        """Reorders only the self-attention cache between beam steps.

        Beam search only moves hypotheses between beams of the same input, and every beam of one input holds the same
        cross-attention keys/values (computed from the same encoder output), so reordering them is an exact no-op;
        transformers copies them anyway, which for a 1,000-token article is ~150 MB per generated token.
        """

        def reorder_cache(self, beam_idx: Any) -> None:
            self.self_attention_cache.reorder_cache(beam_idx)

    return BeamSearchCache


def _beam_search_cache(model_config: Any) -> Any:
    from transformers.cache_utils import DynamicCache

    return _beam_cache_class()(DynamicCache(config=model_config), DynamicCache(config=model_config))


class TransformersEngine(Seq2SeqEngine):
    """The engine on transformers + torch (int8 dynamic quantization when configured)."""

    def _check_available(self, name: str, config: EngineConfig) -> None:
        if locate_model(name, config.model_dir) is None:
            raise ModelUnavailableError(name, config.model_dir)

    def _load(self, name: str, *, summarizer: bool = False) -> Seq2SeqModel:
        return load_seq2seq(name, self.config)  # torch runs every model alike
