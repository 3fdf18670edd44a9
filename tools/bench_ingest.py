#!/usr/bin/env python3
"""Benchmark warm ingest against baselines measured in the same run, on the same machine.

    .venv/bin/python tools/bench_ingest.py [VIDEO ...] [--repeat N] [--profile NAME] [--threads N] [--json]

With no VIDEO, the `narrated` (20 s, 1280x720) and `vtest60` (60 s, 768x576) fixtures are taken
from $VIDEOAGENT_FIXTURES/manifest.json, else <repo>/.fixtures/manifest.json (build them with
tools/make_fixtures.py).

What is measured (every time is the best of --repeat runs, wall clock):

- model load, once per process: `Models.load_all()`, seconds per role. Every later number is warm.
- ffmpeg: `ffmpeg -threads 0 -i FILE -f null -`, a full decode of every stream of the file and
  nothing else: the floor any ingest of that file sits on.
- each stage alone, with the models already loaded, through the pipeline's own Stage interface
  (`stage.run(ctx)` for every stage in `ingest.pipeline.STAGES`, upstream values computed first):
  probe; scenes; asr (audio decode + transcription); ocr, frames and labels, each *including* the
  keyframe decode (the ingest decodes keyframes once and feeds all three, so "vision" below is ocr +
  frames + labels - two decodes, + temporal + captions); tracks (sampled-frame decode + detector +
  ByteTrack + appearance crops); describe (the LLM's scene lines, summary and chapters; also shown per
  minute of video); text (embeddings of transcripts, on-screen text, captions, descriptions, labels). A
  disabled stage counts 0.
- ingest: `Ingestor.ingest_one` into a fresh temporary index each repetition (best and median),
  so nothing is ever served from a cached artifact.

Ratios reported, with their targets:

- ingest / duration <= 0.25 on 720p video (4x faster than real time);
- ingest / ffmpeg decode: how far above the bare-decode floor the ingest sits (no target);
- ingest / sum of the stages <= 0.7: the sum is what a strictly serial ingest would cost, so the
  ratio shows how much the lanes overlapping (speech and tracks beside vision) buys;
- peak RSS < 4096 MB: the process's high-water mark (ru_maxrss) so far, models included, so
  it only grows from one video to the next.

Other processes' CPU use during each video's measurements is recorded too (from /proc/stat, minus
this process and its ffmpeg children): on a 2-core machine anything else running (a test suite, a
build) skews every number, so a video measured on a busy machine is flagged and should be re-run.

Also printed: the critical path, probe + max(scenes + vision, ASR, scenes + tracks, their work shared
by the cores) + describe + text: the wall time a perfect overlap would give with the ingest's three
lanes (scenes and vision in the caller's thread, ASR and tracks on worker threads of their own) on
this machine's cores; the ingest's excess over it is contention between the lanes plus the index writes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from videoagent.config import Pipeline, Profile, load_pipeline, load_profile
from videoagent.index.store import Store
from videoagent.ingest.artifacts import Artifacts
from videoagent.ingest.pipeline import STAGES, Ingestor
from videoagent.ingest.stage import FRAME_CHUNK, Context, keyframe_times
from videoagent.media.audio import decode_audio
from videoagent.media.frames import open_frames
from videoagent.media.probe import VideoInfo, probe
from videoagent.models.registry import Models

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FIXTURES = ("narrated", "vtest60")
TARGET_PER_DURATION = 0.25  # stated for 720p; smaller frames should clear it more easily
TARGET_PER_STAGES = 0.7
TARGET_RSS_MB = 4096
BUSY_SHARE = 0.05  # other processes' share of all cores above which the timings are not to be trusted


# ---- helpers ------------------------------------------------------------------------------------
def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """Wall times of `repeat` calls of `fn`, and the last call's result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return times, result


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux but bytes on macOS.
    scale = 1 / (1024 * 1024) if sys.platform == "darwin" else 1 / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def cpu_seconds() -> tuple[float, float] | None:
    """(CPU seconds all cores have been busy, CPU seconds of this process and its children), or None off Linux."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal ...: idle and iowait are the not-busy ones.
    busy = sum(fields) - fields[3] - fields[4]
    own = sum(
        getattr(resource.getrusage(who), f)
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        for f in ("ru_utime", "ru_stime")
    )
    return busy / os.sysconf("SC_CLK_TCK"), own


def others_share(start: tuple[float, float] | None, wall_s: float) -> float | None:
    """Share of all cores that other processes used since `start` (0 on an idle machine)."""
    end = cpu_seconds()
    if start is None or end is None or wall_s <= 0:
        return None
    foreign = (end[0] - start[0]) - (end[1] - start[1])
    return max(0.0, foreign) / (wall_s * (os.cpu_count() or 1))


def fixture_paths(names: tuple[str, ...]) -> list[Path]:
    root = Path(os.environ.get("VIDEOAGENT_FIXTURES") or REPO / ".fixtures")
    manifest_path = root / "manifest.json"
    if not manifest_path.exists():
        sys.exit(f"{manifest_path}: no fixture manifest; run tools/make_fixtures.py or pass video paths")
    manifest = json.loads(manifest_path.read_text())
    manifest = manifest.get("fixtures", manifest)  # the names sit under "fixtures" (make_fixtures.py)
    missing = [n for n in names if n not in manifest or not (root / manifest[n]["path"]).exists()]
    if missing:
        sys.exit(f"{manifest_path}: fixtures missing: {', '.join(missing)}; run tools/make_fixtures.py")
    return [root / manifest[n]["path"] for n in names]


# ---- the baseline and the stages, each alone -----------------------------------------------------
def ffmpeg_decode(path: Path) -> None:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-threads", "0", "-i", str(path), "-f", "null", "-"],
        check=True,
    )


def keyframe_decode(info: VideoInfo, ctx: Context) -> None:
    """Decode the keyframes the way the frame stages' shared pass does, and do nothing with them."""
    flat = [t for ts in keyframe_times(ctx) for t in ts]
    frames = open_frames(info.path)
    for i in range(0, len(flat), FRAME_CHUNK):
        frames.read(flat[i : i + FRAME_CHUNK])


def stages_alone(
    info: VideoInfo, profile: Profile, pipeline: Pipeline, models: Models, repeat: int
) -> tuple[dict[str, float], Context]:
    """Each ingest stage timed alone through its own `run(ctx)` (the Stage interface), upstream values
    computed first; a stage the pipeline disables counts 0. Frame stages run alone decode the keyframes
    themselves. Nothing is read from or written to an artifact."""
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-stages-") as tmp:
        ctx = Context(info, profile, pipeline, models, Artifacts(tmp, info.video_id))
        for stage in STAGES:
            if not stage.enabled(pipeline):
                best[stage.name], ctx.values[stage.name] = 0.0, stage.off()
                continue
            times, output = timed(lambda stage=stage: stage.run(ctx), repeat)
            best[stage.name], ctx.values[stage.name] = min(times), output.value
    return best, ctx


def ingest_fresh(path: Path, profile: Profile, pipeline: Pipeline, models: Models) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        store = Store(tmp)
        try:
            result = Ingestor(store, profile, pipeline, models=models).ingest_one(path)
        finally:
            store.close()
    if result.status != "done":
        raise RuntimeError(f"{path}: ingest {result.status}: {result.error}")


def warm_index_libraries() -> None:
    """Import and start Chroma once, so the first ingest repetition does not pay it (it is not per-video)."""
    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        store = Store(tmp)
        store.collection("warmup")
        store.close()


# ---- one video --------------------------------------------------------------------------------------
def bench_video(path: Path, profile: Profile, pipeline: Pipeline, models: Models, repeat: int) -> dict[str, Any]:
    best: dict[str, float] = {}
    cpu_start, wall_start = cpu_seconds(), time.perf_counter()

    times, info = timed(lambda: probe(path), repeat)
    best["probe"] = min(times)
    times, _ = timed(lambda: ffmpeg_decode(path), repeat)
    ffmpeg_s = min(times)

    stage_s, ctx = stages_alone(info, profile, pipeline, models, repeat)
    best.update(stage_s)
    segs, how = ctx["scenes"]["segments"], ctx["scenes"]["how"]
    flat = [t for ts in keyframe_times(ctx) for t in ts]
    words, lines, docs = ctx["asr"], ctx["ocr"] or [], (ctx["text"] or {}).get("docs", [])
    times, _ = timed(lambda: decode_audio(info.path), repeat)
    audio_decode_s = min(times)  # inside "asr"; shown apart because it is not the model's time
    times, _ = timed(lambda: keyframe_decode(info, ctx), repeat)
    keyframe_decode_s = min(times)

    ingest_times, _ = timed(lambda: ingest_fresh(path, profile, pipeline, models), repeat)
    ingest_s = min(ingest_times)
    busy = others_share(cpu_start, time.perf_counter() - wall_start)

    # Decode is inside OCR, frames and labels alone; the ingest pays it once for all three.
    vision_stages = int(pipeline.ocr.enabled) + int(pipeline.frames.enabled) + int(pipeline.labels.enabled)
    vision_s = best["ocr"] + best["frames"] + best["labels"] - keyframe_decode_s * max(0, vision_stages - 1)
    vision_s += best["temporal"] + best["captions"]
    serial_s = (
        best["probe"] + best["scenes"] + best["asr"] + vision_s + best["tracks"] + best["describe"] + best["text"]
    )
    # Lane 1: scenes then vision. Lane 2: ASR, then tracks once the scene cuts are known.
    main_lane_s = best["scenes"] + vision_s
    speech_lane_s = best["asr"]
    tracks_lane_s = best["scenes"] + best["tracks"]  # tracks wait for the scene cuts
    shared_s = (best["scenes"] + vision_s + best["asr"] + best["tracks"]) / (os.cpu_count() or 1)
    # The describe stage reads every lane's results: it runs after them, alone.
    lanes_s = max(main_lane_s, speech_lane_s, tracks_lane_s, shared_s)
    critical_s = best["probe"] + lanes_s + best["describe"] + best["text"]
    naive_sum_s = sum(best.values())
    encoder = models.frame_encoder()
    return {
        "path": str(path),
        "duration_s": round(info.duration_s, 3),
        "size": f"{info.width}x{info.height}",
        "height": info.height,
        "fps": round(info.fps, 3),
        "segments": len(segs),
        "segmentation": how,
        "keyframes": len(flat),
        "words": len(words),
        "ocr_lines": sum(map(len, lines)),
        "text_docs": len(docs),
        "frame_encoder": getattr(encoder, "name", None),
        "detector": getattr(models.detector(pipeline.tracks.detect_height), "name", None)
        if pipeline.tracks.enabled
        else None,
        "ffmpeg_decode_s": ffmpeg_s,
        "stages_s": best,
        "audio_decode_s": audio_decode_s,
        "keyframe_decode_s": keyframe_decode_s,
        "vision_s": vision_s,
        "main_lane_s": main_lane_s,
        "speech_lane_s": speech_lane_s,
        "tracks_lane_s": tracks_lane_s,
        "lanes_on_cores_s": shared_s,
        "sum_stages_s": naive_sum_s,
        "serial_s": serial_s,
        "critical_path_s": critical_s,
        "ingest_s": ingest_s,
        "ingest_median_s": statistics.median(ingest_times),
        "ingest_runs_s": ingest_times,
        "ratios": {
            "ingest/duration": ingest_s / info.duration_s,
            "ingest/ffmpeg_decode": ingest_s / ffmpeg_s,
            "ingest/sum_stages": ingest_s / naive_sum_s,
            "ingest/serial": ingest_s / serial_s,
            "ingest/critical_path": ingest_s / critical_s,
            "ingest_without_describe/duration": (ingest_s - best["describe"]) / info.duration_s,
            "describe_s_per_minute": best["describe"] / (info.duration_s / 60.0),
        },
        "peak_rss_mb": peak_rss_mb(),
        "others_cpu_share": busy,
    }


# ---- output -------------------------------------------------------------------------------------
def verdict(value: float, target: float, applies: bool = True, strict: bool = False) -> str:
    op = "<" if strict else "<="
    if not applies:
        return f"(target {op} {target:g} is for 720p and up)"
    met = value < target if strict else value <= target
    return f"{'ok' if met else 'MISSED'} (target {op} {target:g})"


def print_report(doc: dict[str, Any]) -> None:
    m = doc["machine"]
    print(
        f"machine: {m['cpus']} CPUs, {m['platform']}; profile {doc['profile']}, "
        f"pipeline {doc['pipeline']}, model threads per lane {doc['threads']}, best of {doc['repeat']}"
    )
    print(
        "model load (s): "
        + ", ".join(f"{k} {v:.2f}" for k, v in doc["load_s"].items())
        + f"  (total {sum(doc['load_s'].values()):.2f})"
    )
    for v in doc["videos"]:
        r, s = v["ratios"], v["stages_s"]
        print(f"\n== {v['path']}")
        print(
            f"   {v['size']} @ {v['fps']:g} fps, {v['segments']} segments ({v['segmentation']}), "
            f"{v['keyframes']} keyframes, {v['words']} words, {v['ocr_lines']} OCR lines, "
            f"{v['text_docs']} text docs; frame encoder {v['frame_encoder']}, detector {v['detector']}"
        )
        rows = [
            ("duration_s", f"{v['duration_s']:.2f}", ""),
            (
                "ingest wall (best)",
                f"{v['ingest_s']:.2f}",
                f"median {v['ingest_median_s']:.2f}; runs " + " ".join(f"{t:.2f}" for t in v["ingest_runs_s"]),
            ),
            (
                "ingest / duration",
                f"{r['ingest/duration']:.3f}",
                verdict(r["ingest/duration"], TARGET_PER_DURATION, v["height"] >= 720),
            ),
            (
                "ingest / ffmpeg decode",
                f"{r['ingest/ffmpeg_decode']:.2f}",
                f"ffmpeg decode {v['ffmpeg_decode_s']:.2f} s",
            ),
            (
                "ingest / sum of stages",
                f"{r['ingest/sum_stages']:.3f}",
                verdict(r["ingest/sum_stages"], TARGET_PER_STAGES) + f"; sum {v['sum_stages_s']:.2f} s",
            ),
            (
                "ingest / serial",
                f"{r['ingest/serial']:.3f}",
                f"serial {v['serial_s']:.2f} s = sum with the keyframe decode counted once",
            ),
            (
                "ingest / critical path",
                f"{r['ingest/critical_path']:.3f}",
                f"critical path {v['critical_path_s']:.2f} s = probe + max(lanes, work / cores) + describe + text",
            ),
            ("  probe", f"{s['probe']:.2f}", "hash the file, decode one frame"),
            ("  scenes", f"{s['scenes']:.2f}", ""),
            ("  asr", f"{s['asr']:.2f}", f"incl. audio decode {v['audio_decode_s']:.2f}"),
            ("  keyframe decode", f"{v['keyframe_decode_s']:.2f}", "alone; included in ocr and encoder below"),
            ("  ocr", f"{s['ocr']:.2f}", "incl. keyframe decode"),
            ("  frames", f"{s['frames']:.2f}", "incl. keyframe decode"),
            ("  labels", f"{s['labels']:.2f}", "incl. keyframe decode (image classifier)"),
            ("  temporal + captions", f"{s['temporal'] + s['captions']:.2f}", "pooling choice; Q-Former (if any)"),
            ("  vision", f"{v['vision_s']:.2f}", "ocr + encoder + labels - shared keyframe decodes (as ingest runs)"),
            ("  tracks", f"{s['tracks']:.2f}", "incl. its own sampled-frame decode"),
            ("  main lane", f"{v['main_lane_s']:.2f}", "scenes + vision"),
            ("  speech lane", f"{v['speech_lane_s']:.2f}", "asr"),
            ("  tracks lane", f"{v['tracks_lane_s']:.2f}", "scenes, then tracks (they need the cuts)"),
            ("  lanes / cores", f"{v['lanes_on_cores_s']:.2f}", "all three lanes' work spread over the cores"),
            (
                "  describe",
                f"{s['describe']:.2f}",
                f"LLM lines + summary + chapters: {r['describe_s_per_minute']:.1f} s per minute of video; ingest "
                f"without it {r['ingest_without_describe/duration']:.3f} x duration",
            ),
            ("  text embed", f"{s['text']:.2f}", ""),
            (
                "peak RSS (MB)",
                f"{v['peak_rss_mb']:.0f}",
                verdict(v["peak_rss_mb"], TARGET_RSS_MB, strict=True) + "; process high-water mark so far",
            ),
        ]
        for name, value, note in rows:
            print(f"   {name:<24} {value:>8}  {note}")
        busy = v["others_cpu_share"]
        if busy is not None:
            flag = "  WARNING: machine busy, re-run on an idle one" if busy > BUSY_SHARE else ""
            print(f"   {'other processes':<24} {busy:>7.0%}  of all cores during this video's measurements{flag}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("videos", nargs="*", type=Path, help="video files (default: the narrated and vtest60 fixtures)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is reported")
    parser.add_argument("--profile", default=None, help="profile name or YAML path (default: $VIDEOAGENT_PROFILE)")
    parser.add_argument("--pipeline", default=None, help="pipeline YAML (default: videoagent/pipelines/ingest.yaml)")
    parser.add_argument("--threads", type=int, default=None, help="model threads per lane (default: the ingest's)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not shutil.which("ffmpeg"):
        parser.error("ffmpeg is not on PATH (it is the decode baseline)")

    paths = args.videos or fixture_paths(DEFAULT_FIXTURES)
    profile = load_profile(args.profile)
    pipeline = load_pipeline(args.pipeline)
    # Models.shared picks the thread count the ingest itself would use when --threads is not given.
    models = Models.shared(profile, args.threads)
    load_s = models.load_all(llm=pipeline.describe.enabled)
    if pipeline.tracks.enabled:  # load_all leaves the detector out; load it here so tracks times are warm
        started = time.perf_counter()
        models.detector(pipeline.tracks.detect_height)
        load_s["detector"] = time.perf_counter() - started
    warm_index_libraries()

    doc = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "profile": profile.name,
        "pipeline": pipeline.name,
        "device": models.device,
        "threads": models.threads,
        "repeat": args.repeat,
        "load_s": load_s,
        "videos": [bench_video(p, profile, pipeline, models, args.repeat) for p in paths],
    }
    if args.json:
        json.dump(doc, sys.stdout, indent=2)
        print()
    else:
        print_report(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
