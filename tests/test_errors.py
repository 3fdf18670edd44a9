"""The error contract: a VideoAgentError is the user's to fix (CLI exit 2, HTTP 4xx with its reason); anything
else — a torch RuntimeError, a bug — is exit 1 / HTTP 500, never "bad input". No model is loaded here."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from videoagent import errors
from videoagent.cli import app
from videoagent.index.store import SegmentRecord, Store, VideoRows
from videoagent.library import Library
from videoagent.media.probe import VideoInfo
from videoagent.server import create_app

VIDEO = "ab12cd34ef56ab12"


@pytest.fixture
def index(tmp_path):
    store = Store(tmp_path)
    store.begin_video(VideoInfo("/v.mp4", VIDEO, 4.0, 25.0, 64, 48, False, "h264", "mp4"), "h")
    store.commit_video(VideoRows(VIDEO, [SegmentRecord(0.0, 4.0, "hello")], [], "scenes", {}, []))
    store.close()
    return tmp_path


def boom(*args, **kwargs):
    raise RuntimeError("CUDA error: an illegal memory access was encountered")


def test_cli_maps_user_errors_to_2_and_everything_else_to_1(index, monkeypatch):
    runner = CliRunner()
    missing = runner.invoke(app, ["show", "ffff", "--index", str(index), "--json"])
    assert missing.exit_code == 2 and missing.stdout == "" and "ffff: no such video" in missing.stderr
    assert missing.stderr.count("\n") == 1
    monkeypatch.setattr(Library, "search", boom)
    crashed = runner.invoke(app, ["search", "hello", "--index", str(index), "--json"])
    assert crashed.exit_code == 1 and isinstance(crashed.exception, RuntimeError)
    monkeypatch.setattr(Library, "search", lambda *a, **k: (_ for _ in ()).throw(errors.NoFrameEncoder("no frames")))
    refused = runner.invoke(app, ["search", "--image", "x.png", "--index", str(index), "--json"])
    assert refused.exit_code == 2 and "no frames" in refused.stderr


def test_server_maps_user_errors_to_their_status_and_everything_else_to_500(index, monkeypatch):
    client = TestClient(create_app(index), raise_server_exceptions=False)
    assert client.get(f"/videos/{VIDEO[:6]}").json()["segments"][0]["transcript"] == "hello"
    missing = client.get("/videos/ffff")
    assert missing.status_code == 404 and "ffff: no such video" in missing.json()["detail"]
    monkeypatch.setattr(Library, "search", lambda *a, **k: (_ for _ in ()).throw(errors.NoFrameEncoder("no frames")))
    assert client.get("/search", params={"q": "x"}).status_code == 409
    monkeypatch.setattr(Library, "search", boom)
    assert client.get("/search", params={"q": "x"}).status_code == 500


def test_no_index_is_a_user_error(tmp_path):
    with pytest.raises(errors.NoIndex, match=str(tmp_path)):
        Library(tmp_path / "nothing").videos()
    assert issubclass(errors.MediaError, errors.BadInput) and issubclass(errors.BadInput, ValueError)
    assert not issubclass(RuntimeError, errors.VideoAgentError)


def test_search_says_what_it_cannot_reach(tmp_path, profile, monkeypatch):
    """A silent scene (no speech, no on-screen text) and no image-text encoder: text search cannot find it,
    and says so in `warnings` instead of returning nothing without a reason."""
    from fakes import HashedWords

    from videoagent.models.registry import Models

    store = Store(tmp_path)
    store.begin_video(VideoInfo("/v.mp4", VIDEO, 8.0, 25.0, 64, 48, False, "h264", "mp4"), "h")
    store.commit_video(
        VideoRows(VIDEO, [SegmentRecord(0.0, 4.0, "a cat sleeps"), SegmentRecord(4.0, 8.0)], [], "scenes", {}, [])
    )
    store.close()
    fake = Models(profile)
    fake._cache.update(text_encoder=HashedWords(), frame_encoder=None)
    monkeypatch.setattr(Models, "shared", classmethod(lambda cls, profile, threads=None: fake))
    found = Library(tmp_path, profile).search("a dog barks")
    assert found.hits == [] and found.warnings == [
        "1 of 2 segments (in 1 video) have no speech, on-screen text or caption, and this profile has no "
        "image-text encoder (CLIP): text search cannot find them"
    ]
