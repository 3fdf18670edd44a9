"""The Ray executor (a local 2-CPU cluster) gives the same ingest and the same tags as the local executor,
and the related-videos channel lends a near-duplicate's tags to a video with no speech."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from videoagent.index.store import Store
from videoagent.ingest.pipeline import Ingestor
from videoagent.models.registry import Models

pytestmark = pytest.mark.slow  # a Ray cluster and real ingests


@pytest.fixture(scope="session")
def ray_cluster():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def files(tmp_path_factory, media):
    """narrated_small, its copy with the audio dropped, the carphone clip and a byte-identical copy of it."""
    work = tmp_path_factory.mktemp("ray-media")
    silent = work / "narrated_small_silent.mp4"
    cmd = ["ffmpeg", "-loglevel", "error", "-y", "-i", str(media.path("narrated_small")), "-an", "-c:v", "copy"]
    subprocess.run([*cmd, str(silent)], check=True)
    twin = work / "carphone_twin.mp4"
    shutil.copyfile(media.path("carphone"), twin)
    return {"small": media.path("narrated_small"), "silent": silent, "carphone": media.path("carphone"), "twin": twin}


@pytest.fixture(scope="module")
def local_index(tmp_path_factory, files, profile, pipeline):
    store = Store(tmp_path_factory.mktemp("local-index"))
    ingestor = Ingestor(store, profile, pipeline, Models.shared(profile))
    results = ingestor.ingest([files[k] for k in ("small", "silent", "carphone", "twin")])
    assert [r.status for r in results] == ["done", "done", "done", "skipped"]
    return store, results


def _rows(store: Store, video_id: str) -> dict:
    out = {"segments": store.segments(video_id), "stages": store.stages(video_id)}
    for name in store.collections():
        got = store.collection(name).get(where={"video_id": video_id}, include=["embeddings", "documents"])
        order = np.argsort(got["ids"])
        out[name] = ([got["ids"][i] for i in order], [got["documents"][i] for i in order], got["embeddings"][order])
    return out


def test_ray_ingest_equals_local(ray_cluster, tmp_path, files, local_index, profile, pipeline):
    from videoagent.scaleout import ray_ingest

    local_store, local_results = local_index
    store = Store(tmp_path)
    paths = [files[k] for k in ("silent", "carphone", "twin")]
    results = ray_ingest(store, profile, pipeline, paths)
    assert [r.status for r in results] == ["done", "done", "skipped"]  # the twin is the same video
    for got, want in zip(results, local_results[1:], strict=True):
        assert (got.video_id, got.status, got.segments, got.stages) == (
            want.video_id,
            want.status,
            want.segments,
            want.stages,
        )
    for r in results[:2]:
        ray_rows, local_rows = _rows(store, r.video_id), _rows(local_store, r.video_id)
        assert ray_rows.keys() == local_rows.keys()
        assert ray_rows["segments"] == local_rows["segments"] and ray_rows["stages"] == local_rows["stages"]
        for name in ray_rows.keys() - {"segments", "stages"}:
            (ids_a, docs_a, emb_a), (ids_b, docs_b, emb_b) = ray_rows[name], local_rows[name]
            assert ids_a == ids_b and docs_a == docs_b
            np.testing.assert_allclose(emb_a, emb_b, atol=1e-4)
    assert {v["video_id"] for v in store.videos()} == {r.video_id for r in results}


def test_ray_tagging_equals_local_and_related_channel_works(ray_cluster, local_index, profile):
    from videoagent.scaleout import RayRecall
    from videoagent.tagging.tagger import Tagger

    store, results = local_index
    ids = [r.video_id for r in results[:3]]
    tagger = Tagger(store, Models.shared(profile))
    local = [r.as_dict() for r in tagger.tag(ids, force=True)]
    remote = [r.as_dict() for r in tagger.tag(ids, force=True, recall_pool=RayRecall)]
    assert remote == local
    small, silent = local[0], local[1]
    assert store.segments(silent["video_id"])[0].transcript == ""  # no speech: only OCR and its neighbour
    by_tag = {t["tag"]: t for t in silent["tags"]}
    borrowed = [
        tag
        for tag, t in by_tag.items()
        if any(e["channel"] == "related" and e["source"] == small["video_id"] for e in t["evidence"])
    ]
    assert {"coffee", "rocket"} <= set(borrowed), silent["tags"]  # named only in narrated_small's speech
    assert not by_tag.keys() & {"giraffe", "dog", "pizza"}
    assert local[2]["tags"] == []  # carphone: no speech, no text, no near-duplicate
