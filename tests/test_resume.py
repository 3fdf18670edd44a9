"""Resumable and idempotent ingest: kill -9 mid-way, re-run, and the index equals an uninterrupted run's."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from videoagent.index.store import Store
from videoagent.ingest.pipeline import Ingestor
from videoagent.media.probe import file_video_id

pytestmark = pytest.mark.slow  # real ingests (kill -9 mid-way)


def snapshot(root) -> dict:
    """Read in a fresh process: Chroma caches an index's state per process, and another process wrote it."""
    code = "import sys, json; from test_resume import read_index; print(json.dumps(read_index(sys.argv[1])))"
    out = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(__file__))  # fmt: skip
    return json.loads(out.stdout)


def read_index(root) -> dict:
    """Everything a reader can see: done videos, their segments, and every vector row."""
    store = Store(root)
    videos = {
        v["video_id"]: [[s.start_s, s.end_s, s.transcript, s.ocr, s.keyframes] for s in store.segments(v["video_id"])]
        for v in store.videos()
    }
    vectors = {}
    for name in store.collections():
        got = store.collection(name).get(include=["embeddings", "metadatas"])
        assert len(got["ids"]) == len(set(got["ids"]))
        vectors[name] = {i: [round(float(sum(e)), 4), m["video_id"]] for i, e, m in
                         zip(got["ids"], got["embeddings"], got["metadatas"], strict=True)}  # fmt: skip
    store.close()
    return {"videos": videos, "vectors": vectors}


def killed_mid_ingest(files, index) -> list[str]:
    """`videoagent ingest FILES --index INDEX` in a new process, killed with SIGKILL once the second video's
    first stage is on disk (the first video committed, the second half-made); returns the command, to resume."""
    cmd = [sys.executable, "-m", "videoagent", "ingest", *map(str, files), "--index", str(index), "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    marker = index / "artifacts" / file_video_id(files[1]) / "scenes.json"
    deadline = time.monotonic() + 300
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL, "ingest finished before it could be killed"
    return cmd


def test_kill_9_mid_ingest_then_resume_equals_uninterrupted(tmp_path, media, profile, pipeline):
    files = [media.path("launch"), media.path("narrated")]
    reference = tmp_path / "reference"
    ingestor = Ingestor(Store(reference), profile, pipeline)
    assert [ingestor.ingest_one(f).status for f in files] == ["done", "done"]

    crashed = tmp_path / "crashed"
    cmd = killed_mid_ingest(files, crashed)
    midway = snapshot(crashed)
    assert list(midway["videos"]) == [file_video_id(files[0])], "a half-ingested video is visible"

    resumed = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert snapshot(crashed) == snapshot(reference)


def test_same_file_under_another_name_is_one_video(ingested, media, profile, pipeline):
    store, results = ingested
    before = len(store.videos())
    copy = Ingestor(store, profile, pipeline).ingest_one(media.path("narrated_copy"))
    assert copy.status == "skipped"
    assert copy.video_id == results["narrated"].video_id
    assert len(store.videos()) == before


def test_reingest_is_a_no_op(ingested, media, profile, pipeline):
    store, results = ingested
    before = snapshot(store.root)
    again = Ingestor(store, profile, pipeline).ingest_one(media.path("narrated"))
    assert again.status == "skipped"
    assert again.segments == results["narrated"].segments
    assert snapshot(store.root) == before
