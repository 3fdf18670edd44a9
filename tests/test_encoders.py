"""The CLIP path, exercised with a tiny randomly initialised CLIP saved to disk (conftest `tiny_clip`) and loaded
through the same factory as real weights (no real CLIP ships offline). Plumbing and shapes only: these weights
mean nothing."""

from __future__ import annotations

import numpy as np
import pytest

from videoagent.config import FrameEncoderConfig
from videoagent.models.registry import load_frame_encoder


def test_clip_loads_through_the_factory_and_encodes(tiny_clip):
    enc = load_frame_encoder(FrameEncoderConfig(model=str(tiny_clip), fallback=None, batch_size=2))
    assert enc is not None and enc.name.startswith("clip:") and enc.learned and enc.dim == 16
    frames = np.random.default_rng(0).integers(0, 255, (5, 48, 64, 3), dtype=np.uint8)
    img = enc.encode_images(frames)
    txt = enc.encode_text(["a cat", "a rocket on the pad"])
    assert img.shape == (5, 16) and txt.shape == (2, 16)
    assert np.allclose(np.linalg.norm(img, axis=1), 1, atol=1e-5)
    assert np.allclose(enc.encode_images(frames[:2]), img[:2], atol=1e-5)  # batching does not change results


def test_missing_clip_falls_back_to_the_named_fingerprint(tmp_path):
    enc = load_frame_encoder(FrameEncoderConfig(model=str(tmp_path / "absent"), fallback="fingerprint"))
    assert enc is not None and enc.name.startswith("fingerprint:") and not enc.learned
    assert load_frame_encoder(FrameEncoderConfig(model=str(tmp_path / "absent"), fallback=None)) is None


def test_clip_token_features_for_token_level_modules(tiny_clip):
    enc = load_frame_encoder(FrameEncoderConfig(model=str(tiny_clip), fallback=None))
    pooled, tokens, mask = enc.encode_text_tokens(["a cat", "a rocket on the launch pad"])
    assert np.allclose(pooled, enc.encode_text(["a cat", "a rocket on the launch pad"]), atol=1e-5)
    assert tokens.shape[:2] == mask.shape and tokens.shape[0] == 2 and tokens.shape[2] == enc.dim
    assert not mask[:, 0].any()  # the start token is not a word
    assert mask[1].sum() > mask[0].sum()  # padding is masked: the longer caption has more tokens


@pytest.mark.slow
def test_onnx_text_encoder_equals_sentence_transformers(tmp_path, monkeypatch):
    """The default text encoder (MiniLM exported to ONNX, run without torch) gives sentence-transformers'
    vectors for the same model: ragged batches (padding), a text past max_seq_length, and one alone."""
    from videoagent.config import TextEncoderConfig
    from videoagent.models.registry import load_text_encoder

    monkeypatch.setenv("VIDEOAGENT_CACHE", str(tmp_path))  # export afresh, into this test's cache
    onnx = load_text_encoder(TextEncoderConfig())
    torch_side = load_text_encoder(TextEncoderConfig(backend="sentence-transformers"))
    assert onnx.name == torch_side.name and onnx.dim == torch_side.dim == 384
    texts = ["a cat", "The rocket stands on the launch pad at dusk.", "CAT CAFE OPEN | 3 2 1", "word " * 400]
    a, b = onnx.encode(texts), torch_side.encode(texts)
    assert a.shape == (4, 384) and np.abs(a - b).max() < 1e-4
    assert np.abs(onnx.encode(texts[1:2]) - a[1:2]).max() < 1e-5  # batching does not change a row
    assert (tmp_path / "onnx").is_dir()
