"""Bad and unusual input: a clear one-line error naming the file, or a correct ingest; the index stays consistent."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from videoagent.cli import app
from videoagent.index.store import Store


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    return tmp_path_factory.mktemp("bad-index")


def run(index, *args):
    result = CliRunner().invoke(app, ["ingest", *map(str, args), "--index", str(index), "--json"])
    return result.exit_code, result.stdout, result.stderr


def assert_index_clean(index):
    """No video is visible unless done, and failed videos hold no rows anywhere."""
    store = Store(index)
    failed = {v["video_id"] for v in store.videos(status="failed")}
    for vid in failed:
        assert store.segments(vid) == []
        for name in store.collections():
            assert store.collection(name).get(where={"video_id": vid})["ids"] == []
    assert not store.videos(status="ingesting")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("bad_not_a_video", "not a readable video"),
        ("bad_truncated", "not a readable video"),
        ("bad_empty", "empty (0 bytes)"),
        ("bad_audio_only", "no video stream"),
    ],
)
def test_single_bad_file_exits_2_with_one_line(index, media, name, reason):
    path = media.path(name)
    code, stdout, stderr = run(index, path)
    assert code == 2
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and str(path) in lines[0] and reason in lines[0], stderr
    (video,) = json.loads(stdout)["videos"]
    assert video["status"] == "failed" and str(path) in video["error"]
    assert_index_clean(index)


def test_missing_path(index, tmp_path):
    missing = tmp_path / "nope.mp4"
    code, stdout, stderr = run(index, missing)
    assert code == 2
    assert stderr.strip() == f"error: {missing}: no such file or folder"


@pytest.mark.slow
def test_missing_path_among_good_ones_goes_on(index, media, tmp_path):
    code, stdout, _ = run(index, tmp_path / "nope.mp4", media.path("carphone"))
    assert code == 0
    statuses = {v["path"]: v["status"] for v in json.loads(stdout)["videos"]}
    assert statuses[str(media.path("carphone"))] in ("done", "skipped")
    assert statuses[str(tmp_path / "nope.mp4")] == "failed"


@pytest.mark.slow
def test_folder_mixing_videos_and_other_files(index, media):
    folder = media.path("bad_mixed")
    code, stdout, stderr = run(index, folder)
    assert code == 0
    doc = json.loads(stdout)
    by_name = {v["path"].rsplit("/", 1)[-1]: v for v in doc["videos"]}
    for name in media["bad_mixed"]["videos"]:
        assert by_name[name]["status"] in ("done", "skipped")
    for name in media["bad_mixed"]["invalid"]:
        assert by_name[name]["status"] == "failed" and name in by_name[name]["error"]
        assert name in stderr
    assert sorted(p.rsplit("/", 1)[-1] for p in doc["ignored"]) == sorted(media["bad_mixed"]["other_files"])
    assert_index_clean(index)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["bikes", "bad_short", "carphone", "city", "launch", "diver", "linus"])
def test_unusual_but_valid_videos_ingest(tmp_path, media, name):
    """No audio track, < 1 s, 176x144 and 160x120, MPEG-2, VP8/webm, MJPEG in mov and avi."""
    code, stdout, stderr = run(tmp_path, media.path(name))
    assert code == 0, stderr
    (video,) = json.loads(stdout)["videos"]
    assert video["status"] == "done", video
    segments = video["segments"]
    assert segments and segments[0]["start_s"] == 0.0
    assert segments[-1]["end_s"] == pytest.approx(video["duration_s"], abs=0.05)
    assert all(a["end_s"] == b["start_s"] for a, b in zip(segments, segments[1:], strict=False))
    has_audio = media[name].get("has_audio", True)
    assert video["stages"]["asr"].startswith("done" if has_audio else "skipped: no audio track")
    assert video["stages"]["ocr"].startswith("done") and video["stages"]["frames"].startswith("done")


@pytest.mark.slow
def test_stage_crash_fails_only_that_video(index, media, monkeypatch):
    """An unexpected error inside a stage marks that video failed, leaves no rows, and the run goes on."""
    from videoagent.models import ocr

    calls = {"n": 0}
    real_read = ocr.OcrReader.read

    def flaky(self, frame):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("simulated OCR crash")
        return real_read(self, frame)

    monkeypatch.setattr(ocr.OcrReader, "read", flaky)
    code, stdout, stderr = run(index, media.path("launch"), media.path("linus"))
    assert code == 0
    first, second = json.loads(stdout)["videos"]
    assert first["status"] == "failed" and "simulated OCR crash" in first["error"]
    assert second["status"] == "done"
    assert_index_clean(index)


@pytest.mark.slow
def test_list_shows_what_failed_and_why(index, media):
    """After the ingests above, `list` holds the done videos with their scene counts and the video whose
    stage crashed with its error. (Files that never open get no catalog row: ingest reports them.)"""
    result = CliRunner().invoke(app, ["list", "--index", str(index), "--json"])
    assert result.exit_code == 0, result.stderr
    rows = {r["path"]: r for r in json.loads(result.stdout)["videos"]}
    crashed = rows[str(media.path("launch"))]
    assert crashed["status"] == "failed" and "simulated OCR crash" in crashed["error"]
    carphone = rows[str(media.path("carphone"))]
    assert carphone["status"] == "done" and carphone["segments"] >= 1
    failed = CliRunner().invoke(app, ["list", "--index", str(index), "--status", "failed", "--json"])
    assert [r["path"] for r in json.loads(failed.stdout)["videos"]] == [str(media.path("launch"))]
    bogus = CliRunner().invoke(app, ["list", "--index", str(index), "--status", "finished", "--json"])
    assert bogus.exit_code == 2 and "--status finished" in bogus.stderr and bogus.stdout == ""
