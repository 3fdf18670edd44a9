"""Shared test fixtures: real media built by tools/make_fixtures.py, and one ingested index of them.

`make test` builds the media first; run `make fixtures` before calling pytest by hand.

Two tiers: tests marked `slow` read the fixture media, ingest it, or load the real bundled models;
the rest (`pytest -m "not slow"`, `make test-fast`) run on synthetic input and the doubles in fakes.py.
Both rules are enforced here: a test that asks for `media` must be marked slow (collection stops with
the list), and an unmarked test that reaches a real model loader fails.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from videoagent.config import use_offline_env

# Before anything imports transformers, chromadb or ultralytics.

use_offline_env()

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(os.environ.get("VIDEOAGENT_FIXTURES") or ROOT / ".fixtures")


def pytest_collection_modifyitems(config, items):
    unmarked = [
        i.nodeid for i in items if "media" in getattr(i, "fixturenames", ()) and not i.get_closest_marker("slow")
    ]
    if unmarked:
        raise pytest.UsageError("these tests read the fixture media but are not marked slow: " + ", ".join(unmarked))


@pytest.fixture(autouse=True)
def _fast_tier_loads_no_weights(request, monkeypatch):
    """Outside the slow tier, the loaders of the real models fail the test (pytest.fail: no `except
    Exception` on the way can swallow it). Tiny random nets saved by a test load as usual."""
    if request.node.get_closest_marker("slow"):
        return
    from videoagent.models import asr, ocr, registry, weights
    from videoagent.qa import llama_cpp, llm

    real_resolve, real_gguf_path = weights.resolve, weights.gguf_path

    def resolve(spec: str, role: str) -> str:  # every bundled model's loader finds its weights here
        if spec.startswith("bundled:"):
            pytest.fail(f"{role} {spec} loads real weights: mark this test @pytest.mark.slow", pytrace=False)
        return real_resolve(spec, role)

    def gguf_path(spec: str, role: str = "llm") -> str:  # ... or, for llama.cpp, here
        if spec.startswith("bundled:"):
            pytest.fail(f"{role} {spec} loads real weights: mark this test @pytest.mark.slow", pytrace=False)
        return real_gguf_path(spec, role)

    for module in (weights, llama_cpp):
        monkeypatch.setattr(module, "gguf_path", gguf_path)

    def refuse(*args, **kwargs):
        pytest.fail("the OCR model loads real weights: mark this test @pytest.mark.slow", pytrace=False)

    for module in (weights, registry, asr, llm):  # each holds its own name for it
        monkeypatch.setattr(module, "resolve", resolve)
    monkeypatch.setattr(ocr.OcrReader, "__init__", refuse)


class Media:
    """Fixture files by manifest name."""

    def __init__(self, root: Path):
        manifest = root / "manifest.json"
        if not manifest.exists():
            pytest.fail(f"{manifest} missing: run `make fixtures` first", pytrace=False)
        self.root = root
        self.entries: dict[str, dict] = json.loads(manifest.read_text())["fixtures"]

    def __getitem__(self, name: str) -> dict:
        if name not in self.entries:
            pytest.skip(f"fixture {name!r} was not built (its source package was unavailable)")
        return self.entries[name]

    def path(self, name: str) -> Path:
        return self.root / self[name]["path"]


@pytest.fixture(scope="session")
def media() -> Media:
    return Media(FIXTURES)


@pytest.fixture(scope="session")
def profile():
    from videoagent.config import load_profile

    return load_profile("default")


@pytest.fixture(scope="session")
def pipeline():
    from videoagent.config import load_pipeline

    return load_pipeline()


@pytest.fixture(scope="session")
def ingested(tmp_path_factory, media, profile, pipeline):
    """One index holding the narrated fixture and the real speech clip, ingested with the default profile."""
    from videoagent.index.store import Store
    from videoagent.ingest.pipeline import Ingestor

    store = Store(tmp_path_factory.mktemp("index"))
    ingestor = Ingestor(store, profile, pipeline)
    results = {name: ingestor.ingest_one(media.path(name)) for name in ("narrated", "speech")}
    for name, result in results.items():
        assert result.status == "done", (name, result.error)
    return store, results


@pytest.fixture(scope="session")
def narrated(ingested):
    """The narrated fixture in the session's index: (index folder, video id)."""
    store, results = ingested
    return store.root, results["narrated"].video_id


@pytest.fixture(scope="session")
def injection(tmp_path_factory, media, profile, pipeline):
    """The prompt-injection fixture in an index of its own (ingested once, for every QA test file)."""
    from videoagent.index.store import Store
    from videoagent.ingest.pipeline import Ingestor

    store = Store(tmp_path_factory.mktemp("injection"))
    result = Ingestor(store, profile, pipeline).ingest_one(media.path("injection"))
    assert result.status == "done", result.error
    return store, result.video_id


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory):
    """A tiny randomly initialised CLIP saved like real weights (tests only: no real CLIP ships offline)."""
    from transformers import AutoTokenizer, CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    from videoagent.models.weights import resolve

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
