"""A shared index: its vectors on a real `chroma run` server on localhost (index.yaml, `videoagent init`).
The store's round trip, replace-without-duplicates and failure rules hold there as they do embedded; several
processes write one index at once; a reader in another process sees new videos without reopening; and
kill -9 mid-ingest resumes to the uninterrupted result."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from videoagent.errors import BadInput, IndexUnavailable
from videoagent.index.store import SegmentRecord, Store, VectorRows, VideoRows
from videoagent.library import Library
from videoagent.media.probe import VideoInfo, file_video_id

CHROMA = Path(sys.executable).parent / "chroma"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """`chroma run` on a free loopback port: (host, port)."""
    if not CHROMA.exists():
        pytest.fail(f"{CHROMA}: chromadb's server command is missing")
    port, data = _free_port(), tmp_path_factory.mktemp("chroma-server")
    log = open(data / "server.log", "wb")
    cmd = [str(CHROMA), "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    import httpx

    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, (data / "server.log").read_text()[-2000:]
        time.sleep(0.2)
    yield "127.0.0.1", port
    proc.terminate()
    proc.wait(10)
    log.close()


def _served_index(root: Path, server, database: str) -> Path:
    Library(root).init(f"{server[0]}:{server[1]}", database=database)
    return root


def _rows(video_id: str, n: int, seed: int) -> VideoRows:
    rng = np.random.default_rng(seed)
    vec = VectorRows("segments_text")
    segments = []
    for i in range(n):
        segments.append(SegmentRecord(float(i), float(i + 1), transcript=f"scene {i} of {video_id}"))
        vec.add(f"{video_id}:{i}", rng.normal(size=8), f"scene {i}", video_id=video_id, segment=i)
    return VideoRows(video_id, segments, [vec], "content", {"scenes": "done"}, [])


def _begin(store: Store, video_id: str) -> None:
    info = VideoInfo(path=f"/videos/{video_id}.mp4", video_id=video_id, duration_s=3.0, fps=25.0, width=64,
                     height=64, has_audio=False, video_codec="h264", container="mp4")  # fmt: skip
    store.begin_video(info, "hash")


def test_init_writes_index_yaml_and_refuses_a_bad_address(tmp_path, chroma_server):
    root = _served_index(tmp_path / "a", chroma_server, "init-test")
    assert "port: " + str(chroma_server[1]) in (root / "index.yaml").read_text()
    assert Store(root).collections() == []  # the server's database for this index: empty
    with pytest.raises(BadInput, match="HOST:PORT"):
        Library(tmp_path / "b").init("nowhere")
    with pytest.raises(IndexUnavailable, match="cannot connect"):
        Library(tmp_path / "c").init(f"127.0.0.1:{_free_port()}")


def test_store_round_trip_replace_and_fail_on_the_server(tmp_path, chroma_server):
    store = Store(_served_index(tmp_path / "i", chroma_server, "store-test"))
    for vid, seed in (("v1", 1), ("v2", 2)):
        _begin(store, vid)
        store.commit_video(_rows(vid, 3, seed))
    coll = store.collection("segments_text")
    assert coll.count() == 6
    _begin(store, "v1")
    store.commit_video(_rows("v1", 2, 3))  # re-ingest with other content: replaced, not added
    got = coll.get(where={"video_id": "v1"})
    assert sorted(got["ids"]) == ["v1:0", "v1:1"] and coll.count() == 5
    store.fail_video("v2", "broken", {"scenes": "failed: broken"})
    assert coll.count() == 2 and [v["video_id"] for v in store.videos()] == ["v1"]
    hit = coll.query(query_embeddings=[_rows("v1", 2, 3).vectors[0].embeddings[0]], n_results=1)
    assert hit["ids"] == [["v1:0"]]
    # Another process opening the same index reads the same server database.
    code = "import sys; from videoagent.index.store import Store; "
    code += "print(Store(sys.argv[1]).collection(sys.argv[2]).count())"
    argv = [sys.executable, "-c", code, str(store.root), "segments_text"]
    out = subprocess.run(argv, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "2"


def test_several_processes_write_one_index_at_once(tmp_path, chroma_server):
    root = _served_index(tmp_path / "i", chroma_server, "writers-test")
    Store(root).close()
    code = """
import sys
from videoagent.index.store import Store
from test_chroma_server import _begin, _rows
store = Store(sys.argv[1])
for k in range(4):
    vid = f"{sys.argv[2]}-{k}"
    _begin(store, vid)
    store.commit_video(_rows(vid, 5, k))
"""
    procs = [subprocess.Popen([sys.executable, "-c", code, str(root), f"w{w}"], cwd=os.path.dirname(__file__),
                              stderr=subprocess.PIPE, text=True) for w in range(3)]  # fmt: skip
    for proc in procs:
        assert proc.wait(120) == 0, proc.stderr.read()
    store = Store(root)
    assert len(store.videos()) == 12
    got = store.collection("segments_text").get()
    assert len(got["ids"]) == len(set(got["ids"])) == 60


@pytest.mark.slow
def test_kill_9_mid_ingest_resumes_on_the_server_and_a_live_reader_sees_it(tmp_path, chroma_server, media, profile):
    from test_resume import killed_mid_ingest, snapshot

    from videoagent.config import load_pipeline
    from videoagent.ingest.pipeline import Ingestor

    files = [media.path("launch"), media.path("narrated")]
    reference = _served_index(tmp_path / "reference", chroma_server, "resume-reference")
    ingestor = Ingestor(Store(reference), profile, load_pipeline())
    assert [ingestor.ingest_one(f).status for f in files] == ["done", "done"]

    crashed = _served_index(tmp_path / "crashed", chroma_server, "resume-crashed")
    reader = Library(crashed, profile)  # a long-lived reader in this process, opened before any video exists
    assert reader.videos() == []
    cmd = killed_mid_ingest(files, crashed)
    assert list(snapshot(crashed)["videos"]) == [file_video_id(files[0])]

    resumed = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert snapshot(crashed) == snapshot(reference)
    # The reader opened before the writes finds the new video by search: the server has no per-process cache.
    hits = reader.search("a tabby cat rests on a blanket", top=1).hits
    assert hits and hits[0].video_id == file_video_id(files[1])
