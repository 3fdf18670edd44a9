"""Seeing: the silent, text-free `visual` fixture (eight real shots) is searchable, taggable and answerable
from its pixels alone, through the image classifier's labels, its image embeddings and the detector."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from videoagent.cli import app

pytestmark = pytest.mark.slow  # a real ingest with the bundled models

QUERIES = json.loads((Path(__file__).parent / "data" / "visual_queries.json").read_text())


@pytest.fixture(scope="module")
def visual(tmp_path_factory, media, profile, pipeline):
    from videoagent.index.store import Store
    from videoagent.ingest.pipeline import Ingestor

    store = Store(tmp_path_factory.mktemp("visual"))
    result = Ingestor(store, profile, pipeline).ingest_one(media.path("visual"))
    assert result.status == "done", result.error
    return store, result, media["visual"]["scenes"]


def scene_at(scenes, t: float) -> int:
    return next(i for i, s in enumerate(scenes) if s["start_s"] <= t < s["end_s"])


def test_every_scene_is_seen_with_labels_that_name_their_frame(visual):
    store, result, scenes = visual
    assert result.stages["labels"].startswith("done: ") and "efficientnet-lite0" in result.stages["labels"]
    segments = store.segments(result.video_id)
    assert all(not s.transcript and not s.ocr for s in segments)  # nothing to read or hear
    seen = {scene_at(scenes, (s.start_s + s.end_s) / 2): s.seen for s in segments}
    assert sum(bool(rows) for rows in seen.values()) >= 6
    dog = {r["label"]: r for r in seen[0]}
    assert dog["dog"]["score"] > 0.6 and dog["dog"]["source"] == "imagenet-labels:efficientnet-lite0"
    assert scenes[0]["start_s"] <= dog["dog"]["t"] < scenes[0]["end_s"]
    people = {r["label"]: r for r in seen[7]}
    assert people["person"]["count"] >= 2 and people["person"]["source"].startswith("mediapipe:ssd-mobilenetv2-oidv4")
    assert all(0 < r["score"] <= 1 for rows in seen.values() for r in rows)


def test_text_search_finds_what_only_the_pixels_show(visual, profile):
    from videoagent.index.retrieval import Retriever
    from videoagent.models.registry import Models

    store, result, scenes = visual
    retriever = Retriever(store, Models.shared(profile))
    for query, scene in (("a dog", 0), ("pedestrians walking", 7)):
        hits = retriever.search_text(query, top_k=3)
        assert hits and scene_at(scenes, (hits[0].start_s + hits[0].end_s) / 2) == scene, (query, hits)
        assert "frame" in hits[0].why and hits[0].channels.get("labels", 0) > 0
    assert not [w for w in retriever.warnings if "cannot find" in w]  # every segment has a channel now


def test_a_different_photo_of_a_dog_finds_the_dog_scene(visual, media, profile):
    from videoagent.index.retrieval import Retriever
    from videoagent.models.registry import Models

    store, result, scenes = visual
    photo = media.root / QUERIES["photos_dir"] / QUERIES["image"][0]["photo"]  # two dogs on grass
    hits = Retriever(store, Models.shared(profile)).search_image(photo, top_k=3)
    assert scene_at(scenes, (hits[0].start_s + hits[0].end_s) / 2) == 0, hits
    assert hits[0].why.startswith("looks like (imagenet:efficientnet-lite0")


def test_show_and_tag_use_what_is_seen(visual):
    store, result, _ = visual
    run = CliRunner().invoke(app, ["show", result.video_id, "--index", str(store.root), "--json"])
    assert run.exit_code == 0 and any(s["seen"] for s in json.loads(run.stdout)["segments"])
    run = CliRunner().invoke(app, ["tag", result.video_id, "--index", str(store.root), "--json"])
    (video,) = json.loads(run.stdout)["videos"]
    tags = {t["tag"]: t for t in video["tags"]}
    assert "dog" in tags, tags  # before the labels channel: no tag at all
    assert any(e["channel"] == "labels" and "frame" in e["text"] for e in tags["dog"]["evidence"])


def test_what_animal_appears_is_answered_from_the_pixels(visual):
    store, result, scenes = visual
    run = CliRunner().invoke(
        app, ["ask", result.video_id, "What animal appears?", "--index", str(store.root), "--json"]
    )
    assert run.exit_code == 0, run.stderr
    doc = json.loads(run.stdout)
    assert any(w in doc["answer"].lower() for w in ("dog", "bird", "cockatoo", "parrot")), doc
    cited = {scene_at(scenes, (c["start_s"] + c["end_s"]) / 2) for c in doc["citations"]}
    assert cited and cited <= {0, 6}, doc  # the dog's scene or the cockatoo's
