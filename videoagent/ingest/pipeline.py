"""The ingest pipeline: probe -> scenes -> (asr -> tracks || ocr + frames + labels -> temporal -> captions)
-> describe -> text -> one video's rows, which the store applies.

The stages (one module each, behind ingest/stage.py's interface) are listed in `STAGES`; the runner
caches their artifacts and records their status. A video's config hash (`index_hash`) is made of the
hashes of the stages it ran and nothing else, so a setting ingest does not use (the LLM, retrieval
weights, a query-only profile) never re-ingests anything.

`Ingestor.compute` reads the index (is the video done already?) and writes only artifacts; the result
— a `VideoRows`, or the reason the video failed — is applied to the store by `Ingestor.apply`. A local
run does both; the Ray executor (scaleout.py) computes in workers and applies in the driver.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Pipeline, Profile, config_hash
from ..errors import MediaError
from ..index.collections import collection_name
from ..index.store import SegmentRecord, Store, VectorRows, VideoRows
from ..media.probe import VideoInfo, find_videos, probe
from ..models import asr
from ..models.registry import Models
from ..temporal import modules as temporal
from .artifacts import Artifacts
from .captions import Captions
from .describe import Describe
from .frames import FrameEmbeddings, Pooling
from .labels import VisualLabels
from .scenes import Scenes
from .screen_text import ScreenText
from .speech import Speech
from .stage import Context, Stage, keyframe_times, run_stages, stage_hashes
from .text import TextEmbeddings
from .tracks import Tracks, tracklet_rows

log = logging.getLogger(__name__)

# In order: a stage comes after what it reads. asr and tracks run in lanes of their own, beside the others.
STAGES: tuple[Stage, ...] = (
    Scenes(),
    Speech(),
    Tracks(),
    ScreenText(),
    FrameEmbeddings(),
    VisualLabels(),
    Pooling(),
    Captions(),
    Describe(),
    TextEmbeddings(),
)


@dataclass
class VideoResult:
    path: str
    status: str  # done | skipped | failed
    video_id: str | None = None
    duration_s: float | None = None
    error: str | None = None
    segments: list[dict[str, float]] = field(default_factory=list)
    stages: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The CLI's --json row for this file."""
        return asdict(self)


@dataclass
class Computed:
    """One file's ingest before anything is written to the catalog: `info` and `index_hash` when it could
    be probed and was not done already; `rows` when its stages ran, else its stages' status and the error."""

    result: VideoResult
    info: VideoInfo | None = None
    index_hash: str | None = None
    rows: VideoRows | None = None
    reason: str | None = None  # why it failed, without the file name (the catalog's `error`)


def index_hash(hashes: dict[str, str]) -> str:
    """A video's config hash: the hashes of the stages that made its rows."""
    return config_hash("index", hashes)


class Ingestor:
    """Runs the pipeline over files; one bad file is reported and the rest go on."""

    def __init__(
        self,
        store: Store,
        profile: Profile,
        pipeline: Pipeline,
        models: Models | None = None,
        on_stage: Callable[[str, str], None] | None = None,
        stages: tuple[Stage, ...] = STAGES,
    ):
        self.store = store
        self.profile = profile
        self.pipeline = pipeline
        self.models = models or Models.shared(profile)
        self.on_stage = on_stage or (lambda path, stage: None)
        self.stages = stages

    def hashes(self) -> dict[str, str]:
        """Each enabled stage's config hash, and `index`: the video's."""
        hashes = stage_hashes(self.stages, self.profile, self.pipeline)
        return {**hashes, "index": index_hash(hashes)}

    def ingest(self, paths: Iterable[str | Path]) -> list[VideoResult]:
        candidates, _ = find_videos(paths)
        return [self.ingest_one(path) for path in candidates]

    def ingest_one(self, path: str | Path) -> VideoResult:
        return self.apply(self.compute(path, begin=self.store.begin_video))

    def compute(self, path: str | Path, begin: Callable[[VideoInfo, str], None] | None = None) -> Computed:
        """Probe, skip a video already done with these settings, else run its stages (writing only
        artifacts). `begin(info, index_hash)` is called before the stages run (local: mark it ingesting)."""
        try:
            info = probe(path)
        except MediaError as exc:
            return Computed(VideoResult(path=str(path), status="failed", error=str(exc)))
        result = VideoResult(path=info.path, status="done", video_id=info.video_id, duration_s=info.duration_s)
        hashes = self.hashes()
        existing = self.store.video(info.video_id)
        if existing and existing["status"] == "done" and existing["index_hash"] == hashes["index"]:
            result.status = "skipped"
            result.segments = [{"start_s": s.start_s, "end_s": s.end_s} for s in self.store.segments(info.video_id)]
            return Computed(result)
        if begin is not None:
            begin(info, hashes["index"])
        ctx = Context(
            info,
            self.profile,
            self.pipeline,
            self.models,
            Artifacts(self.store.root, info.video_id),
            on_stage=lambda stage: self.on_stage(info.path, stage),
        )
        outcomes: dict[str, Any] = {}
        try:
            run_stages(self.stages, ctx, hashes, outcomes)
            result.stages = {name: str(o) for name, o in outcomes.items()}
            self.on_stage(info.path, "index")
            rows = assemble(ctx, result.stages)
        except Exception as exc:  # one bad file must not stop a bulk run: record it, go on
            reason = exc.reason if isinstance(exc, MediaError) else f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, MediaError):
                log.exception("%s: ingest failed", info.path)
            result.stages = {name: str(o) for name, o in outcomes.items()}
            result.status, result.error = "failed", f"{info.path}: {reason}"
            return Computed(result, info, hashes["index"], reason=reason)
        result.segments = [{"start_s": r.start_s, "end_s": r.end_s} for r in rows.segments]
        return Computed(result, info, hashes["index"], rows)

    def apply(self, computed: Computed) -> VideoResult:
        """Write one computed video to the catalog and vectors: its rows, or its failure (rows dropped)."""
        result = computed.result
        if computed.rows is not None:
            self.store.commit_video(computed.rows)
        elif computed.info is not None and result.status == "failed":
            self.store.fail_video(computed.info.video_id, computed.reason, result.stages)
        return result


def assemble(ctx: Context, stages: dict[str, str]) -> VideoRows:
    """The stages' values as the index's rows: segments, text / visual / tracklet vectors, tracklets."""
    vid = ctx.info.video_id
    segments = ctx["scenes"]["segments"]
    text, labels, story = ctx["text"], ctx["labels"], ctx["describe"]
    keys = ("transcript", "ocr", "caption", "keyframes", "seen", "description")
    records = [
        SegmentRecord(seg.start_s, seg.end_s, **{k: t[k] for k in keys}, shot=seg.shot)
        for seg, t in zip(segments, text["segments"], strict=True)
    ]
    text_rows = VectorRows(collection_name("text", text["encoder"]))
    for (i, channel, doc, extra), emb in zip(text["docs"], text["embeddings"], strict=True):
        r = records[i]
        row_id = f"{vid}:{i}:{channel}" + (f":{extra['label']}" if "label" in extra else "")
        text_rows.add(row_id, emb, doc, video_id=vid, seg=i, start_s=r.start_s, end_s=r.end_s, channel=channel,
                      **extra)  # fmt: skip
    vectors = [text_rows]

    frames, pooler = ctx["frames"], ctx["temporal"]
    if frames is not None and pooler is not None:
        vectors += visual_rows(ctx, records, frames["embeddings"], frames["encoder"], pooler)
    if labels is not None and len(labels["embeddings"]):
        cfg = ctx.pipeline.temporal
        emb = labels["embeddings"]
        labels_pooler, _ = temporal.pooler_for(cfg.module, cfg.checkpoint, labels["model"], emb.shape[1])
        vectors += visual_rows(ctx, records, emb, labels["model"], labels_pooler)

    tracks, embeddings, model, _ = ctx["tracks"]
    heard = ctx["asr"]
    tracks = [{**rec, "speech": asr.words_in(heard.words, rec["start_s"], rec["end_s"])} for rec in tracks]
    vectors += tracklet_rows(vid, tracks, embeddings, model)
    about = {k: story[k] for k in ("title", "summary", "chapters", "model")} if story else {}
    if heard.language:  # what the speech is in, as the ASR model heard it
        code, sure = heard.language
        about["language"] = {"code": code, "name": asr.language_name(code), "p": sure, "by": ctx.profile.asr.model}
    return VideoRows(vid, records, vectors, ctx["scenes"]["how"], stages, tracks, about or None)


def visual_rows(ctx: Context, records: list[SegmentRecord], emb: np.ndarray, model: str, pooler) -> list[VectorRows]:
    """Keyframe embeddings of one model pooled per segment (`visual_<model>`) and per video (`video_<model>`)."""
    vid, info = ctx.info.video_id, ctx.info
    visual = VectorRows(collection_name("visual", model) + pooler.suffix)
    per_video = VectorRows(collection_name("video", model) + pooler.suffix)
    ends = np.cumsum([len(times) for times in keyframe_times(ctx)])
    for i, (r, vec) in enumerate(zip(records, pooler.pool(np.split(emb, ends[:-1])), strict=True)):
        visual.add(f"{vid}:{i}", vec, "", video_id=vid, seg=i, start_s=r.start_s, end_s=r.end_s, **pooler.meta)
    per_video.add(vid, pooler.pool([emb])[0], info.path, video_id=vid, start_s=0.0, end_s=info.duration_s,
                  **pooler.meta)  # fmt: skip
    return [visual, per_video]
