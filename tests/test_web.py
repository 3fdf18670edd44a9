"""The web app's server side without a browser: the token gate, media by id only, uploads and folder jobs,
the job queue's order and restart, caption export. Fast tests run on an empty index; the slow ones on the
session's real index (narrated + speech) and on an upload into an index of their own."""

from __future__ import annotations

import sqlite3
import time

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from videoagent.errors import ConfigError
from videoagent.export import Cue, cues, stamp, to_srt, to_vtt
from videoagent.server import create_app
from videoagent.server.auth import check_bind, is_loopback
from videoagent.server.jobs import JobQueue


def wait_for(condition, timeout: float = 120.0, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(every)
    raise AssertionError(f"not within {timeout} s")


@pytest.fixture
def empty_app(tmp_path):
    """An app over an index with no videos (the catalog made, no model loaded)."""
    from videoagent.index.store import Store

    Store(tmp_path / "index").close()
    media = tmp_path / "media"
    (media / "clips").mkdir(parents=True)
    return create_app(tmp_path / "index", token="s3cret", media_roots=[media], upload_limit_mb=1), media


# ---- fast ----------------------------------------------------------------------------------------
def test_token_gate_covers_api_and_media_but_not_the_page(empty_app):
    app, _ = empty_app
    client = TestClient(app)
    assert client.get("/").status_code == 200 and "videoagent" in client.get("/").text
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/auth").json() == {"required": True, "ok": False}
    for path in ("/videos", "/videos/abc/media", "/videos/abc/frame?t=1", "/jobs", "/docs", "/openapi.json"):
        assert client.get(path).status_code == 401, path
    assert client.get("/videos", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/videos", headers={"Authorization": "Bearer s3cret"}).json() == {"videos": []}
    assert client.post("/login", json={"token": "nope"}).status_code == 401
    assert client.post("/login", json={"token": "s3cret"}).status_code == 204  # the cookie is set
    assert client.get("/videos").status_code == 200 and client.get("/auth").json()["ok"]
    assert "access-control-allow-origin" not in client.get("/videos", headers={"Origin": "http://evil"}).headers


def test_binding_beyond_loopback_needs_a_token():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    check_bind("127.0.0.1", None)
    check_bind("0.0.0.0", "t")
    with pytest.raises(ConfigError, match="0.0.0.0.*token"):
        check_bind("0.0.0.0", None)


def test_media_only_by_video_id(empty_app):
    app, _ = empty_app
    client = TestClient(app, headers={"Authorization": "Bearer s3cret"})
    for path in ("/videos/0123456789abcdef/media", "/videos/..%2F..%2Fetc%2Fpasswd/media",
                 "/videos/../../etc/passwd", "/static/..%2F..%2Fapp.py", "/tracklets/x:0/crop"):  # fmt: skip
        assert client.get(path).status_code == 404, path


def test_uploads_are_checked_and_folders_must_be_under_a_media_root(empty_app, tmp_path):
    app, media = empty_app
    client = TestClient(app, headers={"Authorization": "Bearer s3cret"})
    bad = client.post("/jobs/upload", files={"files": ("notes.txt", b"hello", "text/plain")})
    assert bad.status_code == 400 and bad.json()["detail"].startswith("notes.txt: not a video")
    big = client.post("/jobs/upload", files={"files": ("big.mp4", b"x" * (1024 * 1024 + 1), "video/mp4")})
    assert big.status_code == 413 and "upload limit of 1 MB" in big.json()["detail"]
    assert not list((tmp_path / "index" / "uploads").glob("*/*"))  # nothing of a refused upload is kept
    outside = client.post("/jobs/ingest", json={"folder": str(tmp_path)})
    assert outside.status_code == 403 and "not under a media root" in outside.json()["detail"]
    sneaky = client.post("/jobs/ingest", json={"folder": "clips/../../"})
    assert sneaky.status_code == 403
    assert client.post("/jobs/ingest", json={"folder": "missing"}).status_code == 404
    assert client.post("/jobs/ingest", json={}).status_code == 422
    job = client.post("/jobs/ingest", json={"folder": "clips"})  # an empty folder: a job with nothing to do
    assert job.status_code == 202 and job.json()["paths"] == [str((media / "clips").resolve())]
    done = wait_for(lambda: (j := client.get(f"/jobs/{job.json()['id']}").json())["status"] == "done" and j)
    assert done["results"] == [] and done["error"] is None


def test_job_queue_runs_in_order_reports_failures_and_resumes_after_a_restart(tmp_path):
    ran: list[tuple[str, list[str]]] = []

    def ingest(job, report):
        ran.append((job.id, job.paths))
        report(progress={"file": job.paths[0], "stage": "scenes"})
        if job.paths == ["bad"]:
            raise RuntimeError("no such disk")
        report(result={"path": job.paths[0], "status": "done"})
        return [{"path": job.paths[0], "status": "done"}]

    queue = JobQueue(tmp_path, {"ingest": ingest, "tag": ingest})
    first, second = queue.submit("ingest", ["a.mp4"]), queue.submit("ingest", ["bad"])
    wait_for(queue.idle)
    assert [r[0] for r in ran] == [first.id, second.id]
    assert queue.get(first.id).status == "done" and queue.get(first.id).results == [{"path": "a.mp4", "status": "done"}]
    failed = queue.get(second.id)
    assert failed.status == "failed" and failed.error == "RuntimeError: no such disk"
    version, jobs = queue.changes(-1)
    assert version > 0 and {j.id for j in jobs} == {first.id, second.id}
    assert queue.changes(version) == (version, [])
    queue.close()
    # A server stopped mid-job: the row says running; the next server runs it again.
    db = sqlite3.connect(tmp_path / "jobs.sqlite")
    with db:
        db.execute("UPDATE jobs SET status='running' WHERE id=?", (first.id,))
    db.close()
    ran.clear()
    again = JobQueue(tmp_path, {"ingest": ingest, "tag": ingest})
    assert again.get(first.id).status == "queued"
    again.start()
    wait_for(again.idle)
    assert ran == [(first.id, ["a.mp4"])] and again.get(first.id).status == "done"


def test_caption_cues_break_at_sentences_pauses_and_length(tmp_path):
    import json

    words = [("Hello", 0.0, 0.4), ("there.", 0.4, 0.8), ("A", 0.9, 1.0), ("pause", 1.0, 1.4), ("here", 3.0, 3.4)]
    words += [(f"w{i}", 5 + i * 0.3, 5.2 + i * 0.3) for i in range(30)]
    art = tmp_path / "artifacts" / "v1"
    art.mkdir(parents=True)
    data = {"words": [{"text": t, "start_s": a, "end_s": b} for t, a, b in words]}
    (art / "asr.json").write_text(json.dumps({"config_hash": "x", "has_arrays": False, "data": data}))
    got = cues(tmp_path, {"video_id": "v1", "segments": []})
    assert [c.text for c in got[:3]] == ["Hello there.", "A pause", "here"]
    assert all(len(c.text) <= 84 and c.end_s - c.start_s <= 7.0 for c in got)
    assert sum(len(c.text.split()) for c in got) == len(words)
    fallback = cues(tmp_path, {"video_id": "v2", "segments": [{"start_s": 1, "end_s": 2, "transcript": "hi"}]})
    assert fallback == [Cue(1, 2, "hi")]
    assert stamp(3725.5) == "01:02:05.500" and stamp(1.25, ",") == "00:00:01,250"
    vtt = to_vtt([Cue(0, 1.5, "a <b> & c --> d")])
    assert vtt.startswith("WEBVTT\n") and "00:00:00.000 --> 00:00:01.500\na &lt;b&gt; &amp; c --&gt; d" in vtt
    assert to_srt([Cue(0, 1.5, "x")]) == "1\n00:00:00,000 --> 00:00:01,500\nx\n\n"


# ---- slow: the session's real index ----------------------------------------------------------------
@pytest.fixture(scope="module")
def client(ingested, profile):
    store, _ = ingested
    return TestClient(create_app(store.root, profile))


@pytest.mark.slow
def test_player_media_seeks_by_range_and_thumbnails_decode(client, ingested):
    _, results = ingested
    vid = results["narrated"].video_id
    whole = client.get(f"/videos/{vid}/media")
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    part = client.get(f"/videos/{vid}/media", headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == whole.content[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(whole.content)}"
    thumb = client.get(f"/videos/{vid}/frame", params={"t": 5.0, "width": 320})
    image = cv2.imdecode(np.frombuffer(thumb.content, np.uint8), cv2.IMREAD_COLOR)
    assert thumb.headers["content-type"] == "image/jpeg" and image.shape == (180, 320, 3)
    assert image.std() > 10  # a picture, not a blank frame
    listed = {v["video_id"]: v for v in client.get("/videos").json()["videos"]}
    assert listed[vid]["thumb_s"] is not None and listed[vid]["status"] == "done"
    doc = client.get(f"/videos/{vid}").json()
    crop = client.get(f"/tracklets/{doc['tracklets'][0]['id']}/crop")
    assert crop.status_code == 200 and crop.content[:2] == b"\xff\xd8"


@pytest.mark.slow
def test_captions_and_export_carry_the_transcript(client, ingested):
    _, results = ingested
    vid = results["narrated"].video_id
    vtt = client.get(f"/videos/{vid}/captions.vtt")
    assert vtt.headers["content-type"].startswith("text/vtt") and vtt.text.startswith("WEBVTT")
    assert "tabby cat" in vtt.text.lower()
    srt = client.get(f"/videos/{vid}/export", params={"format": "srt"}).text
    assert srt.startswith("1\n00:00:0") and "tabby cat" in srt.lower()
    doc = client.get(f"/videos/{vid}/export", params={"format": "json"}).json()
    assert doc["video_id"] == vid and doc["captions"] and doc["segments"][1]["ocr"] == ["CAT CAFE OPEN"]
    assert client.get(f"/videos/{vid}/export", params={"format": "doc"}).status_code == 422


@pytest.mark.slow
def test_ask_stream_sends_the_draft_then_the_checked_answer(client, ingested):
    import json

    _, results = ingested
    vid = results["narrated"].video_id
    body = {"video_id": vid, "question": "What does the sign in the cat scene say?", "session": "web-1"}
    with client.stream("POST", "/ask/stream", json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [block for block in response.read().decode().split("\n\n") if block.strip()]
    kinds = [e.split("\n")[0].removeprefix("event: ") for e in events]
    assert kinds[-1] == "answer" and kinds.count("answer") == 1 and "text" in kinds
    answer = json.loads(events[-1].split("data: ", 1)[1])
    assert "cat cafe open" in answer["answer"].lower() and answer["session"] == "web-1"
    assert any(c["start_s"] < 8 and c["end_s"] > 4 for c in answer["citations"])
    missing = client.post("/ask/stream", json={**body, "video_id": "ffffffffff"})
    assert missing.status_code == 404


@pytest.mark.slow
def test_upload_becomes_a_ready_video_and_the_index_stays_readable(tmp_path, media, profile):
    from videoagent.index.store import Store

    Store(tmp_path / "index").close()
    client = TestClient(create_app(tmp_path / "index", profile))
    with open(media.path("narrated_small"), "rb") as fh:
        job = client.post("/jobs/upload", files={"files": ("my clip.mp4", fh, "video/mp4")})
    assert job.status_code == 202
    assert client.get("/videos").status_code == 200  # readable while the job runs
    done = wait_for(lambda: (j := client.get(f"/jobs/{job.json()['id']}").json())["status"] in ("done", "failed") and j)
    assert done["status"] == "done" and done["results"][0]["status"] == "done", done
    listed = client.get("/videos").json()["videos"]
    assert [v["status"] for v in listed] == ["done"] and listed[0]["path"].endswith("my_clip.mp4")
    assert client.get(f"/videos/{listed[0]['video_id']}").json()["segments"]
