"""A video's config hash covers only what ingest uses; the same file and settings give the same index."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from videoagent.config import load_profile
from videoagent.index.store import Store
from videoagent.ingest.pipeline import Ingestor

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_index(tmp_path_factory, media, profile, pipeline):
    store = Store(tmp_path_factory.mktemp("hash-index"))
    first = Ingestor(store, profile, pipeline).ingest_one(media.path("narrated_small"))
    assert first.status == "done", first.error
    return store, first


def test_query_only_settings_reingest_nothing(small_index, media, pipeline, tmp_path):
    store, first = small_index
    own = tmp_path / "chatty.yaml"
    own.write_text("extends: default\nllm:\n  max_new_tokens: 64\n  cutoff: 0.5\nretrieval:\n  ocr_weight: 2.0\n")
    for profile in (load_profile(str(own)), load_profile("openai")):
        again = Ingestor(store, profile, pipeline).ingest_one(media.path("narrated_small"))
        assert again.status == "skipped", profile.name
        assert again.segments == first.segments


def test_an_ingest_setting_reruns_its_stage_and_reuses_the_rest(small_index, media, profile, pipeline):
    store, first = small_index
    denser = pipeline.model_copy(update={"keyframes": pipeline.keyframes.model_copy(update={"interval_s": 1.0})})
    again = Ingestor(store, profile, denser).ingest_one(media.path("narrated_small"))
    assert again.status == "done"
    assert again.stages["scenes"] == "done: cached" and again.stages["asr"] == "done: cached"
    assert again.stages["tracks"] == "done: cached"  # tracking samples its own frames, not keyframes
    assert not again.stages["ocr"].endswith("cached") and not again.stages["frames"].endswith("cached")
    keyframes = [s.keyframes for s in store.segments(first.video_id)]
    assert sum(map(len, keyframes)) > len(keyframes)  # more keyframes per scene now


def _show(index, video_id: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "videoagent", "show", video_id, "--index", str(index), "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.replace(str(index), "INDEX"))  # crops live under the index folder


def test_same_file_and_settings_give_the_same_index(tmp_path, media):
    video = media.path("narrated_small")
    docs = []
    for name in ("a", "b"):
        index = tmp_path / name
        out = subprocess.run(
            [sys.executable, "-m", "videoagent", "ingest", str(video), "--index", str(index), "--json"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        (row,) = json.loads(out.stdout)["videos"]
        assert row["status"] == "done", row
        docs.append(_show(index, row["video_id"]))
    assert docs[0] == docs[1]
    assert any(s["transcript"] for s in docs[0]["segments"])
