#!/usr/bin/env python3
"""Benchmark segment search at scale: the index (Chroma HNSW, through the Retriever) against exact search.

    .venv/bin/python tools/bench_search.py [--segments 100000] [--dim 512] [--videos 200] [--queries 300]
                                           [--keep DIR] [--json]

An index of --segments synthetic segment embeddings (unit vectors in clusters, like real CLIP
features: many near-duplicates within a shot, distinct shots far apart) is written through the real
write path (Store.commit_video, --videos videos), then --queries held-out vectors from the same
distribution are searched top-10 three ways, in the same run on the same vectors:

- index: `Retriever._query`, the per-channel call of every text->segment search (Chroma HNSW query,
  cosine, metadata fetch, done-video filter); the query's own embedding cost is not included
  (a MiniLM text query adds the `text encoder` line, measured here too unless --no-text-encoder);
- index, filtered: the same with a `--video-id`-style filter on one video;
- exact: brute-force numpy over the same float32 matrix (one matrix-vector product + argpartition).

Printed: p50/p99 latency of each, index/exact latency ratios, and recall@10 of the index against the
exact top 10. Targets: index p50 < 50 ms and recall@10 >= 0.95. The build time is reported too; the
index lives in a temporary folder removed at the end (--keep DIR to keep it).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from videoagent.index.store import SegmentRecord, Store, VectorRows, VideoRows
from videoagent.media.probe import VideoInfo

COLLECTION = "visual_bench-synthetic"
TARGET_P50_MS = 50.0
TARGET_RECALL = 0.95


def clustered(n: int, dim: int, clusters: int, spread: float, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors around `clusters` random centres (relative spread `spread`)."""
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    x = centres[rng.integers(0, clusters, n)] + spread * rng.standard_normal((n, dim)).astype(np.float32) / np.sqrt(dim)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def build(store: Store, vectors: np.ndarray, videos: int) -> float:
    started = time.perf_counter()
    for v, rows in enumerate(np.array_split(np.arange(len(vectors)), videos)):
        vid = f"{v:016x}"
        info = VideoInfo(f"/bench/{vid}.mp4", vid, float(len(rows)), 25.0, 640, 360, False, "h264", "mp4")
        store.begin_video(info, "bench")
        coll = VectorRows(COLLECTION)
        for i, row in enumerate(rows):
            coll.add(f"{vid}:{i}", vectors[row], "", video_id=vid, seg=i, start_s=float(i), end_s=i + 1.0, row=int(row))
        segments = [SegmentRecord(float(i), i + 1.0) for i in range(len(rows))]
        store.commit_video(VideoRows(vid, segments, [coll], "bench", {}, []))
        print(f"\rindexed {rows[-1] + 1}/{len(vectors)}", end="", file=sys.stderr)
    print(file=sys.stderr)
    return time.perf_counter() - started


def pct(times: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(times) * 1000, q))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--videos", type=int, default=200)
    parser.add_argument("--clusters", type=int, default=2000)
    parser.add_argument("--spread", type=float, default=0.6, help="cluster noise relative to the centre")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", help="build the index in this folder and keep it")
    parser.add_argument("--no-text-encoder", action="store_true", help="skip timing the MiniLM query encoder")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    args = parser.parse_args(argv)

    from videoagent.config import load_profile
    from videoagent.index.retrieval import Retriever
    from videoagent.models.registry import Models

    rng = np.random.default_rng(args.seed)
    data = clustered(args.segments + args.queries, args.dim, args.clusters, args.spread, rng)
    vectors, queries = data[: args.segments], data[args.segments :]
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-search-"))
    try:
        store = Store(root)
        build_s = build(store, vectors, args.videos)
        profile = load_profile("default")
        retriever = Retriever(store, Models(profile))
        done = retriever._done()
        k = 10

        index_t, exact_t, filtered_t, recalls = [], [], [], []
        for i, q in enumerate(queries):
            started = time.perf_counter()
            got = retriever._query(COLLECTION, q, k, None, done)
            index_t.append(time.perf_counter() - started)

            started = time.perf_counter()
            scores = vectors @ q
            top = np.argpartition(-scores, k)[:k]
            top = top[np.argsort(-scores[top])]
            exact_t.append(time.perf_counter() - started)
            recalls.append(len({m["row"] for m, _, _ in got} & set(top.tolist())) / k)

            vid = f"{i % args.videos:016x}"
            started = time.perf_counter()
            retriever._query(COLLECTION, q, k, vid, done)
            filtered_t.append(time.perf_counter() - started)

        text_t = []
        if not args.no_text_encoder:
            encoder = retriever.models.text_encoder()
            encoder.encode(["warm-up"])
            for i in range(50):
                started = time.perf_counter()
                encoder.encode([f"a red motorcycle parked in a garage {i}"])
                text_t.append(time.perf_counter() - started)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)

    doc = {
        "segments": args.segments,
        "dim": args.dim,
        "videos": args.videos,
        "queries": args.queries,
        "build_s": build_s,
        "build_rows_per_s": args.segments / build_s,
        "index_p50_ms": pct(index_t, 50),
        "index_p99_ms": pct(index_t, 99),
        "filtered_p50_ms": pct(filtered_t, 50),
        "filtered_p99_ms": pct(filtered_t, 99),
        "exact_p50_ms": pct(exact_t, 50),
        "exact_p99_ms": pct(exact_t, 99),
        "recall_at_10": float(np.mean(recalls)),
        "text_encoder_p50_ms": pct(text_t, 50) if text_t else None,
    }
    doc["index_over_exact_p50"] = doc["index_p50_ms"] / doc["exact_p50_ms"]
    doc["index_over_exact_p99"] = doc["index_p99_ms"] / doc["exact_p99_ms"]
    doc["targets_met"] = doc["index_p50_ms"] < TARGET_P50_MS and doc["recall_at_10"] >= TARGET_RECALL
    if args.json:
        print(json.dumps(doc))
        return 0
    print(f"{args.segments} segments x {args.dim}-d in {args.videos} videos; built in {build_s:.1f} s "
          f"({doc['build_rows_per_s']:.0f} rows/s through Store.commit_video)")  # fmt: skip
    print(f"{'top-10 search':<28}{'p50 ms':>10}{'p99 ms':>10}")
    for label, key in (("index (Retriever, HNSW)", "index"), ("index, one-video filter", "filtered"),
                       ("exact numpy brute force", "exact")):  # fmt: skip
        print(f"{label:<28}{doc[key + '_p50_ms']:>10.2f}{doc[key + '_p99_ms']:>10.2f}")
    if text_t:
        print(f"{'text encoder (MiniLM query)':<28}{doc['text_encoder_p50_ms']:>10.2f}{pct(text_t, 99):>10.2f}")
    print(f"index / exact: p50 x{doc['index_over_exact_p50']:.2f}, p99 x{doc['index_over_exact_p99']:.2f}")
    print(f"recall@10 of the index against exact search: {doc['recall_at_10']:.3f}")
    print(f"targets (p50 < {TARGET_P50_MS:.0f} ms, recall@10 >= {TARGET_RECALL}): "
          f"{'met' if doc['targets_met'] else 'NOT met'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
