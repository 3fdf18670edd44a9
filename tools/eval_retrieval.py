#!/usr/bin/env python3
"""Retrieval quality: R@1/R@5/R@10 and median rank (MdR), on the fixtures or on a standard dataset.

    .venv/bin/python tools/eval_retrieval.py fixtures [--queries FILE] [--index DIR] [--profile P] [--json]
    .venv/bin/python tools/eval_retrieval.py dataset --captions FILE --videos DIR [--profile hub]
                     [--temporal CKPT] [--frames 12] [--cache DIR] [--limit N] [--json]

fixtures: for each query file (tests/data/narrated_queries.json, tests/data/visual_queries.json), its
fixture and the `speech` clip (a distractor) are ingested into --index/<fixture> (a temporary folder by
default; videos already there are skipped), then every query is run through the same Retriever the CLI
uses: text queries (narrated: paraphrases of the narration, burned-in overlay text; visual: what only
the pixels of a silent, text-free video show) -> segments, photos -> segments (narrated: the source
photos; visual: different photos of the same kinds of things), a re-encoded copy -> videos. A query's
rank is that of the first hit on its target scene (a query with no such hit counts as rank = number of
segments + 1).

dataset: whole-clip text->video retrieval on an MSR-VTT-style layout, the protocol of CLIP4Clip and
CLIP2Video. --captions is one of
  - MSRVTT_JSFUSION_test.csv (columns video_id, sentence: the 1k-A test split, one caption per clip);
  - MSRVTT_data.json ({"sentences": [{"video_id", "caption"}]}, every caption; --limit to cut);
  - a manifest (CSV/JSONL with path, caption, optional start_s/end_s; see videoagent.training.temporal).
Videos are <--videos>/<video_id>.mp4 (or .webm, .avi, .mkv, .mov, .m4v, .mpg). --frames frames are
spread evenly over each clip, encoded by the profile's frame encoder (must be an image-text model:
CLIP), pooled by `mean` (CLIP4Clip meanP) or the --temporal checkpoint, and scored against the CLIP
text embeddings.
Published anchors on MSR-VTT 1k-A (text->video R@1, ViT-B/32): CLIP4Clip meanP 43.1, CLIP2Video 45.6
— both fine-tune the CLIP towers on MSR-VTT 9k, so reaching them needs those fine-tuned towers as
the frame encoder (a local folder in transformers format); off-the-shelf CLIP weights give the
zero-shot figure (about 31 in the CLIP4Clip paper).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
QUERY_FILES = [REPO / "tests" / "data" / "narrated_queries.json", REPO / "tests" / "data" / "visual_queries.json"]
ANCHORS = {"CLIP4Clip meanP ViT-B/32": 43.1, "CLIP2Video ViT-B/32": 45.6}
VIDEO_EXTENSIONS = (".mp4", ".webm", ".avi", ".mkv", ".mov", ".m4v", ".mpg", ".mpeg")


def fail(message: str) -> None:
    """Bad input: one line on stderr, exit status 2."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _fixtures() -> tuple[Path, dict]:
    root = Path(os.environ.get("VIDEOAGENT_FIXTURES") or REPO / ".fixtures")
    manifest = root / "manifest.json"
    if not manifest.exists():
        fail(f"{manifest}: missing (run tools/make_fixtures.py)")
    return root, json.loads(manifest.read_text())["fixtures"]


def _table(rows: list[tuple[str, int, dict[str, float]]]) -> str:
    lines = [f"{'queries':<26}{'n':>4}{'R@1':>8}{'R@5':>8}{'R@10':>8}{'MdR':>6}"]
    for name, n, m in rows:
        lines.append(f"{name:<26}{n:>4}{m['R@1']:>8.1f}{m['R@5']:>8.1f}{m['R@10']:>8.1f}{m['MdR']:>6.1f}")
    return "\n".join(lines)


def run_fixtures(args: argparse.Namespace) -> dict:
    """Every query file, each against its own index (its fixture + the `speech` distractor)."""
    docs = [_run_queries(args, path) for path in (args.queries or QUERY_FILES)]
    return docs[0] if len(docs) == 1 else {"query_files": docs}


def _run_queries(args: argparse.Namespace, query_file: Path) -> dict:
    from videoagent.config import load_pipeline, load_profile
    from videoagent.index.retrieval import Retriever, rank_of
    from videoagent.index.store import Store
    from videoagent.ingest.pipeline import Ingestor
    from videoagent.models.registry import Models
    from videoagent.training.temporal import rank_metrics

    root, fixtures = _fixtures()
    queries = json.loads(Path(query_file).read_text())
    scenes = fixtures[queries["fixture"]]["scenes"]
    profile = load_profile(args.profile)
    base = Path(args.index) if args.index else Path(tempfile.mkdtemp(prefix="eval-retrieval-"))
    index = base / queries["fixture"]
    store = Store(index)
    ingestor = Ingestor(store, profile, load_pipeline(args.pipeline))
    ids = {}
    for name in (queries["fixture"], "speech"):
        result = ingestor.ingest_one(root / fixtures[name]["path"])
        if result.status == "failed":
            fail(result.error)
        ids[name] = result.video_id
    retriever = Retriever(store, Models.shared(profile))
    n_segments = sum(len(store.segments(v)) for v in ids.values())
    target = ids[queries["fixture"]]

    def scene_rank(hits, scene: int | list[int]) -> int:
        """The rank of the first hit on the target scene (or on any of several)."""
        found = []
        for s in scene if isinstance(scene, list) else [scene]:
            mid = (scenes[s]["start_s"] + scenes[s]["end_s"]) / 2
            found.append(rank_of(hits, target, mid) or n_segments + 1)
        return min(found)

    ranks: dict[str, list[int]] = {}
    per_query = []
    for q in queries["text"]:
        r = scene_rank(retriever.search_text(q["text"], top_k=n_segments), q["scene"])
        ranks.setdefault(f"text: {q['kind']}", []).append(r)
        per_query.append({"query": q["text"], "kind": q["kind"], "rank": r})
    photos = root / queries.get("photos_dir", "_downloads/skimage")
    for q in queries["image"]:
        r = scene_rank(retriever.search_image(photos / q["photo"], top_k=n_segments), q["scene"])
        ranks.setdefault("image -> segment", []).append(r)
        per_query.append({"query": q["photo"], "kind": "image", "rank": r})
    for q in queries["video"]:
        hits = retriever.search_video(root / fixtures[q["query"]]["path"], top_k=10)
        r = rank_of(hits, ids[q["target"]]) or len(ids) + 1
        ranks.setdefault("video -> video", []).append(r)
        per_query.append({"query": q["query"], "kind": "video", "rank": r})
    metrics = {name: rank_metrics(r) for name, r in ranks.items()}
    encoder = Models.shared(profile).frame_encoder()
    doc = {
        "queries_file": str(query_file),
        "index": str(index),
        "profile": profile.name,
        "frame_encoder": getattr(encoder, "name", None),
        "segments": n_segments,
        "metrics": {name: {"n": len(ranks[name]), **m} for name, m in metrics.items()},
        "queries": per_query,
        "warnings": retriever.warnings,
    }
    if not args.json:
        print(f"{Path(query_file).name}: index {index}: {n_segments} segments; frame encoder {doc['frame_encoder']}")
        print(_table([(name, len(ranks[name]), m) for name, m in metrics.items()]))
        for q in per_query:
            if q["rank"] != 1:
                print(f"  not at rank 1: [{q['kind']}] {q['query']!r} -> rank {q['rank']}")
    return doc


# ---- standard dataset layout -------------------------------------------------------------------
def read_pairs(captions: Path, videos: Path | None, limit: int | None):
    """(clip, caption) pairs from an MSR-VTT file or a manifest; videos missing on disk are left out."""
    from videoagent.training.temporal import ClipRef, Pair, read_manifest

    def video_file(video_id: str) -> Path | None:
        for ext in VIDEO_EXTENSIONS:
            if (videos / f"{video_id}{ext}").exists():
                return videos / f"{video_id}{ext}"
        return None

    if not captions.is_file():
        raise ValueError(f"{captions}: no such file")
    if captions.suffix == ".json":
        try:
            data = json.loads(captions.read_text())
            rows = [(s["video_id"], s["caption"]) for s in data["sentences"]]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{captions}: not an MSR-VTT data file ({exc})") from None
    else:
        with captions.open(newline="") as fh:
            header = csv.DictReader(fh).fieldnames or []
        if "path" in header:
            pairs = read_manifest(captions)
            return pairs[:limit] if limit else pairs, 0
        if not {"video_id", "sentence"} <= set(header):
            raise ValueError(f"{captions}: needs columns video_id,sentence (MSR-VTT) or path,caption (manifest)")
        with captions.open(newline="") as fh:
            rows = [(r["video_id"], r["sentence"]) for r in csv.DictReader(fh)]
    if videos is None:
        raise ValueError("--videos DIR is needed with MSR-VTT caption files")
    rows = rows[:limit] if limit else rows
    pairs, missing = [], set()
    for video_id, caption in rows:
        path = video_file(video_id)
        if path is None:
            missing.add(video_id)
        else:
            pairs.append(Pair(ClipRef(str(path)), caption))
    return pairs, len(missing)


def run_dataset(args: argparse.Namespace) -> dict:
    import torch

    from videoagent.config import load_profile
    from videoagent.models.registry import Models
    from videoagent.temporal.modules import Mean, load_checkpoint
    from videoagent.training.temporal import extract_features, rank_metrics, ranks_of, similarity, video_ranks

    try:
        pairs, missing = read_pairs(Path(args.captions), Path(args.videos) if args.videos else None, args.limit)
    except ValueError as exc:
        fail(str(exc))
    if not pairs:
        fail(f"no caption of {args.captions} has its video under {args.videos}")
    profile = load_profile(args.profile)
    encoder = Models.shared(profile).frame_encoder()
    if not getattr(encoder, "learned", False) or not hasattr(encoder, "encode_text"):
        fail(
            f"frame encoder {getattr(encoder, 'name', None)} of profile {profile.name} is not an "
            "image-text model: text->video needs CLIP weights (see `videoagent models`)"
        )
    if args.threads:
        torch.set_num_threads(args.threads)
    data = extract_features(
        pairs, encoder, args.frames, args.cache,
        progress=lambda i, n: print(f"\rencoded {i}/{n} clips", end="", file=sys.stderr),
    )  # fmt: skip
    print(file=sys.stderr)
    if args.temporal:
        ckpt = load_checkpoint(args.temporal)
        if ckpt.frame_encoder != encoder.name:
            fail(f"{args.temporal} was trained for {ckpt.frame_encoder}, not {encoder.name}")
        module, label = ckpt.module, f"{ckpt.module.name}:{ckpt.id}"
    else:
        module, label = Mean(encoder.dim), "mean"
    sim = similarity(module, data)
    t2v = rank_metrics(ranks_of(sim, data.target))
    v2t = rank_metrics(video_ranks(sim, data.target))
    doc = {
        "captions": len(data.captions),
        "videos": len(data.clips),
        "missing_videos": missing,
        "frame_encoder": encoder.name,
        "temporal": label,
        "frames": args.frames,
        "text_to_video": t2v,
        "video_to_text": v2t,
        "anchors_text_to_video_R@1": ANCHORS,
    }
    if not args.json:
        print(f"{len(data.captions)} captions, {len(data.clips)} videos ({missing} missing); "
              f"{encoder.name}, {args.frames} frames, {label} pooling")  # fmt: skip
        print(_table([("text -> video", len(data.captions), t2v), ("video -> text", len(data.clips), v2t)]))
        print("anchors (MSR-VTT 1k-A, text->video R@1): " + ", ".join(f"{k} {v}" for k, v in ANCHORS.items()))
    return doc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    fx = sub.add_parser("fixtures", help="queries with known target scenes on the fixtures")
    fx.add_argument("--index", help="index folder (default: a new temporary one)")
    fx.add_argument("--profile", default=None)
    fx.add_argument("--pipeline", default=None)
    fx.add_argument("--queries", type=Path, action="append", help="a query file (repeatable) [default: both]")
    ds = sub.add_parser("dataset", help="MSR-VTT-style whole-clip text->video retrieval")
    ds.add_argument("--captions", required=True)
    ds.add_argument("--videos")
    ds.add_argument("--profile", default="hub")
    ds.add_argument("--temporal", help="a tools/train_temporal.py checkpoint (default: mean pooling)")
    ds.add_argument("--frames", type=int, default=12)
    ds.add_argument("--limit", type=int, help="first N captions only")
    ds.add_argument("--cache", help="feature cache folder (default: none)")
    ds.add_argument("--threads", type=int, default=0)
    for p in (fx, ds):
        p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    args = parser.parse_args(argv)
    from videoagent.config import use_offline_env

    use_offline_env()
    doc = run_fixtures(args) if args.mode == "fixtures" else run_dataset(args)
    if args.json:
        print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
