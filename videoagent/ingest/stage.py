"""The one Stage interface, and the runner that caches artifacts and records every stage's status.

A stage declares its `name`, the stages it `reads`, the settings its config hash covers (`settings`),
and `run(ctx) -> Output`. The runner (`run_stages`) is the only place that:
- hashes a stage: its settings plus the hashes of what it reads, so a changed setting re-runs that
  stage and everything downstream of it, and nothing else;
- loads a finished artifact with the same hash instead of running (`restore`), and saves a new one;
- records the outcome (`done` / `skipped` / `failed`, with a one-line detail) for the catalog.

Stages run in lanes so that speech, vision and tracking overlap: the stages of one named lane (`lane =
"speech"`: ASR; `"tracks"`: detection and tracking) run in order on a worker thread of their own, the
others in the caller's thread; each waits for what it reads. Their work is in native code (CTranslate2,
ONNX Runtime, LiteRT, torch, OpenCV, FFmpeg) that releases the GIL. Three lanes on two cores contend a
little, but no core idles: with tracking behind ASR on one lane, the 20 s narrated fixture's second core
sat idle for 3 s after vision (tools/bench_ingest.py).
`FrameStage`s (OCR, the frame encoder) read the same keyframes: consecutive ones share one decode pass.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel

from ..config import Pipeline, Profile, config_hash
from .artifacts import Artifacts

if TYPE_CHECKING:
    from ..media.probe import VideoInfo
    from ..models.registry import Models

log = logging.getLogger(__name__)
FRAME_CHUNK = 32  # keyframes decoded at a time: bounds memory on long videos


@dataclass(frozen=True)
class Outcome:
    status: str  # done | skipped | failed
    detail: str | None = None

    def __str__(self) -> str:
        return self.status if not self.detail else f"{self.status}: {self.detail}"


@dataclass
class Output:
    """What a stage hands downstream (`value`), its outcome, and the artifact to keep (None: nothing)."""

    value: Any
    outcome: Outcome
    artifact: tuple[dict[str, Any], dict[str, np.ndarray] | None] | None = None


@dataclass
class Context:
    """One video's run: its info, settings, models, artifacts and the outputs of the stages so far."""

    info: VideoInfo
    profile: Profile
    pipeline: Pipeline
    models: Models
    artifacts: Artifacts
    on_stage: Callable[[str], None] = lambda stage: None
    values: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, stage: str) -> Any:
        return self.values[stage]


class Stage:
    name: str = ""
    reads: tuple[str, ...] = ()
    lane: str = "main"  # or the name of a worker lane of its own ("speech", "tracks")
    cached: bool = True  # False: cheap enough to recompute; no artifact

    def settings(self, profile: Profile, pipeline: Pipeline) -> Sequence[BaseModel | dict | str | None]:
        """What this stage's config hash covers, besides the hashes of what it reads."""
        return ()

    def enabled(self, pipeline: Pipeline) -> bool:
        switch = getattr(pipeline, self.name, None)
        return bool(getattr(switch, "enabled", True))

    def run(self, ctx: Context) -> Output:
        raise NotImplementedError

    def restore(self, data: dict[str, Any], arrays: dict[str, np.ndarray], ctx: Context) -> Any:
        """The stage's value from its artifact (the inverse of what `run` saved)."""
        raise NotImplementedError

    def off(self) -> Any:
        """The value downstream stages read when this stage does not run."""
        return None


class Feeder:
    """One frame stage's work on one video: fed keyframe batches in order, then finished."""

    def feed(self, frames: np.ndarray) -> None:
        raise NotImplementedError

    def finish(self) -> Output:
        raise NotImplementedError


class FrameStage(Stage):
    """A stage that reads every keyframe: `start` gives a Feeder (or the Outcome of not running)."""

    reads = ("scenes",)

    def start(self, ctx: Context) -> Feeder | Outcome:
        raise NotImplementedError

    def run(self, ctx: Context) -> Output:
        return _frame_pass([self], ctx)[self.name]


def keyframe_times(ctx: Context) -> list[list[float]]:
    """Each segment's keyframe times (the scenes stage's value, from the pipeline's keyframe settings)."""
    return ctx["scenes"]["keyframes"]


def _frame_pass(stages: list[FrameStage], ctx: Context) -> dict[str, Output]:
    """Decode the keyframes once, in chunks, and feed each stage that could start."""
    from ..media.frames import open_frames

    done: dict[str, Output] = {}
    ready: dict[str, Feeder] = {}
    for stage in stages:
        started = stage.start(ctx)
        if isinstance(started, Outcome):
            done[stage.name] = Output(stage.off(), started)
        else:
            ready[stage.name] = started
    if ready:
        flat = [t for ts in keyframe_times(ctx) for t in ts]
        ctx.on_stage("keyframes")
        frames = open_frames(ctx.info.path)
        for i in range(0, len(flat), FRAME_CHUNK):
            batch = frames.read(flat[i : i + FRAME_CHUNK])
            for name, feeder in ready.items():
                ctx.on_stage(name)
                feeder.feed(batch)
    for name, feeder in ready.items():
        done[name] = feeder.finish()
    return done


def stage_hashes(stages: Sequence[Stage], profile: Profile, pipeline: Pipeline) -> dict[str, str]:
    """Each enabled stage's config hash: its settings and the hashes of what it reads."""
    hashes: dict[str, str] = {}
    for stage in stages:
        if not stage.enabled(pipeline):
            continue
        upstream = [hashes.get(name, "off") for name in stage.reads]
        hashes[stage.name] = config_hash(stage.name, *stage.settings(profile, pipeline), *upstream)
    return hashes


def run_stages(stages: Sequence[Stage], ctx: Context, hashes: dict[str, str], outcomes: dict[str, Outcome]) -> None:
    """Run (or restore) every stage for one video: their values land in `ctx.values`, their outcomes in
    `outcomes` (also those that finished before a failure). A stage that raises fails the video
    (a MediaError, or a bug) unless it turned its own error into an outcome."""
    futures: dict[str, Future] = {s.name: Future() for s in stages}

    def settle(group: list[Stage]) -> None:
        """Run a stage, or consecutive frame stages as one decode pass, once what they read is done."""
        try:
            for name in {n for s in group for n in s.reads}:
                futures[name].result()  # re-raises the failure of what they read
            todo = []
            for stage in group:
                found = _cached_or_off(stage, ctx, hashes)
                if found is None:
                    todo.append(stage)
                else:
                    outcomes[stage.name] = found
            for stage in todo:
                ctx.on_stage(stage.name)
            ran = _frame_pass(todo, ctx) if todo and isinstance(todo[0], FrameStage) else {}
            for stage in todo:
                outcomes[stage.name] = _keep(stage, ran.get(stage.name) or stage.run(ctx), ctx, hashes)
            for stage in group:
                futures[stage.name].set_result(True)
        except BaseException as exc:
            for stage in group:
                if not futures[stage.name].done():
                    futures[stage.name].set_exception(exc)

    lanes = {s.lane: ThreadPoolExecutor(max_workers=1, thread_name_prefix=s.lane) for s in stages if s.lane != "main"}
    try:
        for stage in stages:
            if stage.lane != "main":
                lanes[stage.lane].submit(settle, [stage])
        pending = [s for s in stages if s.lane == "main"]
        while pending:
            group = [pending.pop(0)]
            while isinstance(group[0], FrameStage) and pending and isinstance(pending[0], FrameStage):
                group.append(pending.pop(0))
            settle(group)
        for stage in stages:
            futures[stage.name].result()
    finally:
        for lane in lanes.values():
            lane.shutdown(wait=True)


def _cached_or_off(stage: Stage, ctx: Context, hashes: dict[str, str]) -> Outcome | None:
    """The outcome of a stage that need not run (disabled, or its artifact is on disk); None: run it."""
    if stage.name not in hashes:
        ctx.values[stage.name] = stage.off()
        return Outcome("skipped", "disabled in pipeline")
    if stage.cached:
        found = ctx.artifacts.load(stage.name, hashes[stage.name])
        if found is not None:
            ctx.values[stage.name] = stage.restore(*found, ctx)
            return Outcome("done", "cached")
    return None


def _keep(stage: Stage, output: Output, ctx: Context, hashes: dict[str, str]) -> Outcome:
    if output.artifact is not None and stage.cached:
        data, arrays = output.artifact
        ctx.artifacts.save(stage.name, hashes[stage.name], data, arrays)
    ctx.values[stage.name] = output.value
    return output.outcome
