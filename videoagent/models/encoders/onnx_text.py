"""Sentence embeddings on ONNX Runtime: the same sentence-transformers model (all-MiniLM-L6-v2 by default),
without importing torch, transformers or sentence-transformers when it runs.

A cold `videoagent search` spent ~5 s importing sentence-transformers (torch, transformers, sklearn) to
embed one query. Here the model's transformer is exported to ONNX once, into the user cache
(`cache_dir()/onnx/<name>/model.onnx`, the only step that needs torch), and then run with ONNX Runtime
and the model's own fast tokenizer (`tokenizers`). The pipeline is sentence-transformers' for these
models — transformer -> mean pooling over the real tokens -> L2 normalisation, inputs cut at the
model's `max_seq_length` — so the vectors equal `SentenceEncoder`'s to ~1e-5 (tests/test_encoders.py)
and both carry the same name: an index built with one is searched with the other.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..weights import cache_dir
from . import normalize

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
BATCH = 32


def onnx_file(model_dir: str | Path, name: str) -> Path:
    """The model's ONNX export in the cache, made on first use (needs torch, transformers and onnx once)."""
    from ...atomic import atomic_folder

    target = cache_dir() / "onnx" / name.replace(":", "_").replace("/", "_")
    atomic_folder(target, lambda work: _export(Path(model_dir), work / "model.onnx"))
    return target / "model.onnx"


def _export(model_dir: Path, out: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))

    class Hidden(torch.nn.Module):  # positional inputs, one output: what the exporter traces
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)[0]

    texts = ["a short one", "a somewhat longer sentence, to pad the first"]
    sample = tokenizer(texts, return_tensors="pt", padding=True)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
    with torch.inference_mode():
        torch.onnx.export(
            Hidden(), tuple(sample[k] for k in INPUTS), str(out), input_names=list(INPUTS),
            output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False,
        )  # fmt: skip


class OnnxSentenceEncoder:
    def __init__(self, model_dir: str, name: str, threads: int = 0):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = Path(model_dir)
        self.name = name
        settings = folder / "sentence_bert_config.json"
        max_len = json.loads(settings.read_text()).get("max_seq_length", 256) if settings.exists() else 256
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_len)
        self.tokenizer.enable_padding(pad_id=self.tokenizer.token_to_id("[PAD]") or 0)
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(onnx_file(folder, name)), options, providers=["CPUExecutionProvider"])
        self.dim = int(json.loads((folder / "config.json").read_text())["hidden_size"])

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = [self._batch(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]
        return normalize(np.concatenate(out))

    def _batch(self, texts: list[str]) -> np.ndarray:
        enc = self.tokenizer.encode_batch(texts)
        ids = np.asarray([e.ids for e in enc], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in enc], dtype=np.int64)
        types = np.asarray([e.type_ids for e in enc], dtype=np.int64)
        (hidden,) = self.session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
        weights = mask[..., None].astype(np.float32)
        return (hidden * weights).sum(1) / np.maximum(weights.sum(1), 1e-9)
