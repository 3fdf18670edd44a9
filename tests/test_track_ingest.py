"""The `tracks` ingest stage end to end: tracklets in the catalog, crops on disk, the CLI queries, bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import cv2
import pytest
from typer.testing import CliRunner

from videoagent.cli import app
from videoagent.config import TracksConfig
from videoagent.index.tracklets import describe

pytestmark = pytest.mark.slow  # real ingests of fixture media

# vtest's people are 60-110 px tall: the far-field detector height (see tests/data/vtest_people.md).
FAR_FIELD = TracksConfig(detect_height=1152)


def invoke(*args):
    result = CliRunner().invoke(app, list(map(str, args)))
    return result.exit_code, result.stdout, result.stderr


def tracks_only(pipeline, tracks: TracksConfig = FAR_FIELD):
    off = {"enabled": False}
    return pipeline.model_copy(
        update={
            "asr": pipeline.asr.model_copy(update=off),
            "ocr": pipeline.ocr.model_copy(update=off),
            "frames": pipeline.frames.model_copy(update=off),
            "tracks": tracks,
        }
    )


def clip(src: Path, dst: Path, start: float, length: float) -> Path:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-ss", str(start), "-i", str(src), "-t", str(length), "-an",
         "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", str(dst)],
        check=True,
    )  # fmt: skip
    return dst


@pytest.fixture(scope="module")
def tracked(tmp_path_factory, media, profile, pipeline):
    """Two overlapping 8 s pieces of vtest (people P4-P6 walk through both), tracked and indexed."""
    from videoagent.index.store import Store
    from videoagent.ingest.pipeline import Ingestor

    tmp = tmp_path_factory.mktemp("tracks")
    first = clip(media.path("vtest"), tmp / "vtest_a.mp4", 0.0, 8.0)
    second = clip(media.path("vtest"), tmp / "vtest_b.mp4", 4.0, 8.0)
    store = Store(tmp / "index")
    ingestor = Ingestor(store, profile, tracks_only(pipeline))
    results = [ingestor.ingest_one(p) for p in (first, second)]
    for r in results:
        assert r.status == "done", r.error
    return store, results, ingestor


def test_tracklets_are_indexed_with_trajectory_and_crops(tracked):
    store, results, _ = tracked
    vid = results[0].video_id
    assert results[0].stages["tracks"].startswith("done: ")
    everything = store.tracklets(vid)
    # The SSD also sees the cars parked at the top of the frame; the people are what the labels count.
    assert {r["category"] for r in everything} <= {"person", "car", "vehicle"}
    recs = [r for r in everything if r["category"] == "person"]
    assert 3 <= len(recs) <= 9
    for rec in recs:
        assert rec["id"].startswith(vid + ":")
        assert 0.0 <= rec["start_s"] < rec["end_s"] <= 8.0 and len(rec["boxes"]) == len(rec["times"]) >= 3
        assert all(0.0 <= v <= 1.0 for box in rec["boxes"] for v in box)
        assert set(rec["trajectory"]) >= {"enters", "exits", "direction", "mean_speed"}
        assert rec["appearance_model"] == "imagenet:efficientnet-lite0"  # the classifier's features of the crops
        crop = cv2.imread(rec["crop"])
        assert crop is not None and crop.shape[0] > crop.shape[1]  # a standing person: taller than wide
    row = describe(recs[0])  # ChatVideo's columns, in words
    assert set(row) == {"id", "category", "time", "appearance", "motion", "trajectory", "speech"}
    assert row["motion"] == recs[0]["motion"] and row["trajectory"].startswith("enters ")
    # P4 and P5 walk in from the bottom right between 2 and 4 s and head up-left (see the labels).
    assert any(r["trajectory"]["enters"] in ("right", "bottom") and r["start_s"] <= 4.0 for r in recs)


def test_rerun_reuses_the_tracks_artifact(tracked):
    store, results, ingestor = tracked
    from videoagent.media.probe import probe

    info = probe(results[0].path)
    store.db.execute("UPDATE videos SET index_hash='stale' WHERE video_id=?", (info.video_id,))
    before = store.tracklets(info.video_id)
    again = ingestor.ingest_one(results[0].path)
    assert again.stages["tracks"] == "done: cached"
    assert store.tracklets(info.video_id) == before


def test_cli_show_and_tracklet_queries(tracked):
    store, results, _ = tracked
    vid, other = results[0].video_id, results[1].video_id
    code, stdout, _ = invoke("show", vid, "--index", store.root, "--json")
    assert code == 0
    shown = json.loads(stdout)["tracklets"]
    assert shown == store.tracklets(vid)

    code, stdout, _ = invoke("tracklets", vid, "--category", "person", "--count", "--index", store.root, "--json")
    assert code == 0 and json.loads(stdout)["count"] == sum(r["category"] == "person" for r in shown)

    code, stdout, _ = invoke("tracklets", vid, "--start", 6, "--end", 8, "--index", store.root, "--json")
    late = json.loads(stdout)["tracklets"]
    assert code == 0 and all(r["end_s"] >= 6 for r in late) and len(late) < len(shown)

    code, stdout, _ = invoke("tracklets", vid, "--enters", "right", "--index", store.root, "--json")
    assert code == 0 and all(r["trajectory"]["enters"] == "right" for r in json.loads(stdout)["tracklets"])

    # Similar-tracklet search across videos: the same people walk through the overlapping second clip.
    code, stdout, _ = invoke("tracklets", "--like", shown[0]["id"], "--index", store.root, "--json")
    hits = json.loads(stdout)["results"]
    assert code == 0 and hits and all(h["id"] != shown[0]["id"] for h in hits)
    assert {h["id"].split(":")[0] for h in hits} >= {other}
    assert hits == sorted(hits, key=lambda h: -h["score"]) and all(h["score"] <= 1.0 + 1e-6 for h in hits)


def test_cli_tracklets_bad_input(tracked):
    store, results, _ = tracked
    code, stdout, stderr = invoke("tracklets", results[0].video_id, "--enters", "sideways", "--index", store.root)
    assert code == 2 and "sideways" in stderr
    code, stdout, stderr = invoke("tracklets", "--like", "nope:1", "--index", store.root, "--json")
    assert code == 2 and stdout == "" and "nope:1" in stderr


def test_videos_without_people_and_tiny_frames_still_ingest(tmp_path, media, profile, pipeline):
    from videoagent.index.store import Store
    from videoagent.ingest.pipeline import Ingestor

    store = Store(tmp_path / "index")
    ingestor = Ingestor(store, profile, tracks_only(pipeline, TracksConfig()))
    for name in ("city", "linus"):  # night skyscrapers; a 160x120 face
        result = ingestor.ingest_one(media.path(name))
        assert result.status == "done", result.error
        assert result.stages["tracks"].startswith("done: ") and "frames" in result.stages["tracks"]
        assert all(r["category"] in ("person", "face") for r in store.tracklets(result.video_id))


def test_tracking_crash_is_recorded_and_the_video_still_ingests(tmp_path, media, profile, pipeline, monkeypatch):
    from videoagent.index.store import Store
    from videoagent.ingest import tracks as tracklets
    from videoagent.ingest.pipeline import Ingestor

    def boom(*args, **kwargs):
        raise RuntimeError("tracker exploded")

    monkeypatch.setattr(tracklets, "run_stage", boom)
    store = Store(tmp_path / "index")
    result = Ingestor(store, profile, tracks_only(pipeline, TracksConfig())).ingest_one(media.path("bikes"))
    assert result.status == "done" and result.stages["tracks"] == "failed: RuntimeError: tracker exploded"
    assert store.stages(result.video_id)["tracks"]["status"] == "failed"


def test_faces_become_tracklets_with_crops(tmp_path, media, profile, pipeline):
    """carphone (a man talking in a car): BlazeFace's boxes are tracked like any other category."""
    from videoagent.index.store import Store
    from videoagent.ingest.pipeline import Ingestor

    store = Store(tmp_path / "index")
    result = Ingestor(store, profile, tracks_only(pipeline, TracksConfig())).ingest_one(media.path("carphone"))
    assert result.status == "done" and "blazeface" in result.stages["tracks"]
    faces = [r for r in store.tracklets(result.video_id) if r["category"] == "face"]
    assert len(faces) == 1 and faces[0]["end_s"] - faces[0]["start_s"] >= 2.0  # one face, most of the 4 s
    crop = cv2.imread(faces[0]["crop"])
    assert crop is not None and crop.size > 0
    code, stdout, _ = invoke("tracklets", result.video_id, "--category", "face", "--count", "--index", store.root,
                             "--json")  # fmt: skip
    assert code == 0 and json.loads(stdout)["count"] == 1
