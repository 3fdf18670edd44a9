"""The HTTP API over the session's real index (narrated + speech): the CLI's documents, errors, chat sessions."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.slow  # the session's real ingest


@pytest.fixture(scope="module")
def client(ingested, profile):
    from videoagent.server import create_app

    store, _ = ingested
    return TestClient(create_app(store.root, profile))


def test_lists_and_shows_videos_by_id_prefix(client, ingested):
    _, results = ingested
    vid = results["narrated"].video_id
    listed = client.get("/videos").json()["videos"]
    assert {v["video_id"] for v in listed} == {r.video_id for r in results.values()}
    doc = client.get(f"/videos/{vid[:6]}").json()
    assert doc["video_id"] == vid and len(doc["segments"]) == 5
    assert doc["segments"][1]["ocr"] == ["CAT CAFE OPEN"] and doc["stages"]["asr"]["status"] == "done"
    assert doc["language"]["code"] == "en" and doc["language"]["name"] == "English"  # as the ASR model heard it
    missing = client.get("/videos/ffffffffff")
    assert missing.status_code == 404 and "no such video" in missing.json()["detail"]


def test_text_and_image_search(client, ingested, media):
    _, results = ingested
    vid = results["narrated"].video_id
    hits = client.get("/search", params={"q": "a motorcycle parked in a garage", "top": 3}).json()["results"]
    assert hits[0]["video_id"] == vid and hits[0]["start_s"] == 16.0 and "garage" in hits[0]["why"]
    only = client.get("/search", params={"q": "a young man", "video_id": vid}).json()["results"]
    assert only and {h["video_id"] for h in only} == {vid}
    assert client.get("/search", params={"q": ""}).status_code == 422

    photo = media.root / "_downloads" / "skimage" / "chelsea.png"
    with photo.open("rb") as fh:
        found = client.post("/search/image", files={"image": ("chelsea.png", fh, "image/png")}).json()["results"]
    assert found[0]["video_id"] == vid and found[0]["start_s"] == 4.0
    bad = client.post("/search/image", files={"image": ("notes.png", b"not an image", "image/png")})
    assert bad.status_code == 400 and bad.json()["detail"].startswith("notes.png: ")


def test_ask_cites_and_a_session_follows_up(client, ingested):
    _, results = ingested
    vid = results["narrated"].video_id
    first = client.post("/ask", json={"video_id": vid, "question": "Who poses in front of the flag?", "session": "s1"})
    assert first.status_code == 200
    assert "astronaut" in first.json()["answer"].lower() and first.json()["citations"][0]["start_s"] == 0.0
    then = client.post("/ask", json={"video_id": vid, "question": "and what happens after that?", "session": "s1"})
    assert [c["start_s"] for c in then.json()["citations"]] == [4.0]
    # Without the session the same words have nothing to follow: no follow-up window is used.
    alone = client.post("/ask", json={"video_id": vid, "question": "and what happens after that?"}).json()
    assert all(s["tool"] != "resolve_follow_up" for s in alone["steps"])
    assert client.post("/ask", json={"video_id": "ffffffffff", "question": "Why?"}).status_code == 404
    assert client.post("/ask", json={"video_id": vid, "question": ""}).status_code == 422
