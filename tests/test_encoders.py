"""The CLIP path, exercised with a tiny randomly initialised CLIP saved to disk and loaded through the same
factory as real weights (no real CLIP ships offline). Plumbing and shapes only: these weights mean nothing."""

from __future__ import annotations

import numpy as np
import pytest

from videoagent.config import FrameEncoderConfig
from videoagent.encoders import load_frame_encoder


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    from transformers import AutoTokenizer, CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    from videoagent.weights import resolve

    path = tmp_path_factory.mktemp("tiny-clip")
    config = CLIPConfig(
        text_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                     "vocab_size": 30522, "max_position_embeddings": 77},
        vision_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                       "image_size": 32, "patch_size": 8},
        projection_dim=16,
    )  # fmt: skip
    CLIPModel(config).save_pretrained(path)
    # Any fast tokenizer will do for plumbing: borrow the bundled MiniLM one (same 30522 vocab).
    tokenizer = AutoTokenizer.from_pretrained(resolve("bundled:all-MiniLM-L6-v2", "text_encoder"))
    image_processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(path)
    return path


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
