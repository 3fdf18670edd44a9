"""Scale-out with Ray (`--executor ray`): bulk ingest and bulk-tagging recall in Ray actors.

ChromaDB's embedded client is not safe with several writing processes, so workers compute and only the
driver writes:
- ingest: one actor per CPU, each loading its models once, runs the pipeline's own `Ingestor.compute` —
  it reads the index (the skip check) and writes only the per-video stage artifacts — and returns the
  per-video result (`Computed`: the video's rows, or why it failed). The driver applies each to the real
  store in input order (`Ingestor.apply`), so the index ends up exactly as a local run leaves it.
  Byte-identical copies of one file (one video id) go to the workers once; the other copies run in the
  driver afterwards and are skipped, as locally.
- tagging: actors run `tagging.ContentRecall` (reads only) and return what they recalled; the driver ranks,
  borrows related videos' tags and saves.
`ray.init()` joins the cluster named by $RAY_ADDRESS, or starts a local one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .config import OFFLINE_ENV, Pipeline, Profile
from .index.store import Store
from .ingest.pipeline import Computed, Ingestor, VideoResult
from .media.probe import file_video_id
from .models.registry import Models
from .tagging.library import TagLibrary
from .tagging.tagger import ContentRecall, Plan, Recalled, TagOptions, VideoTags, recall_or_fail

WORKER_ENV = (*OFFLINE_ENV, "YOLO_CONFIG_DIR")


def _ray():
    import ray

    if not ray.is_initialized():
        # log_to_driver=False: workers' prints must never reach the driver's stdout (the --json contract).
        ray.init(include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": _env()})
    return ray


def _env() -> dict[str, str]:
    return {k: os.environ[k] for k in WORKER_ENV if k in os.environ}


def _actors(ray, cls, *args) -> list:
    workers = max(1, int(ray.available_resources().get("CPU", 1)))
    remote = ray.remote(num_cpus=1, runtime_env={"env_vars": _env()})(cls)
    return [remote.remote(*args) for _ in range(workers)]


class _IngestWorker:
    def __init__(self, root: str, profile: Profile, pipeline: Pipeline):
        self.ingestor = Ingestor(Store(root), profile, pipeline, Models(profile, threads=1))

    def run(self, path: str) -> Computed:
        return self.ingestor.compute(path)


def ray_ingest(
    store: Store,
    profile: Profile,
    pipeline: Pipeline,
    paths: Iterable[str | Path],
    on_result: Callable[[VideoResult], None] | None = None,
) -> list[VideoResult]:
    """`Ingestor.ingest` over Ray actors; the same results and the same index as the local executor."""
    on_result = on_result or (lambda result: None)
    paths = [str(p) for p in paths]
    first: dict[str, int] = {}
    later: list[int] = []
    for i, path in enumerate(paths):
        try:
            vid = file_video_id(path)
        except Exception:  # unreadable: the worker's probe reports it as the local run would
            vid = f"unreadable:{i}"
        if vid in first:
            later.append(i)
        else:
            first[vid] = i
    results: dict[int, VideoResult] = {}
    local = Ingestor(store, profile, pipeline)
    todo = sorted(first.values())
    if todo:
        ray = _ray()
        from ray.util import ActorPool

        pool = ActorPool(_actors(ray, _IngestWorker, str(store.root), profile, pipeline))
        for i, computed in zip(todo, pool.map(lambda a, p: a.run.remote(p), [paths[i] for i in todo]), strict=True):
            if computed.info is not None:
                store.begin_video(computed.info, computed.index_hash)
            results[i] = local.apply(computed)
            on_result(results[i])
    for i in later:
        results[i] = local.ingest_one(paths[i])
        on_result(results[i])
    return [results[i] for i in range(len(paths))]


class _RecallWorker:
    def __init__(self, root: str, library: TagLibrary, plan: Plan, options: TagOptions):
        self.recall = ContentRecall(Store(root), library, plan, options)

    def run(self, video_id: str) -> Recalled | VideoTags:
        return recall_or_fail(self.recall, video_id)


class RayRecall:
    """A pool of recall actors for one tagging run (the library is shipped to each actor once)."""

    def __init__(self, root: str | Path, library: TagLibrary, plan: Plan, options: TagOptions):
        self.args = (str(root), library, plan, options)

    def __enter__(self) -> RayRecall:
        from ray.util import ActorPool

        self.ray = _ray()
        root, library, plan, options = self.args
        self.actors = _actors(self.ray, _RecallWorker, root, self.ray.put(library), plan, options)
        self.pool = ActorPool(self.actors)
        return self

    def recall(self, video_ids: list[str]) -> list[Recalled | VideoTags]:
        return list(self.pool.map(lambda a, vid: a.run.remote(vid), video_ids))

    def __exit__(self, *exc: Any) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
