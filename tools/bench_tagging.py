"""Bulk-tagging benchmark: videos/min and per-video latency with tag libraries of 1k and 10k tags.

The 1k library is the first 1,000 tags of the shipped default; the 10k one is the whole default plus
perturbed copies of its names ("red cat", "wooden cat", ...) up to 10,000 tags. Both are tagged over the
same ingested fixtures (ingest is not timed). Reported per library:
    build_s        one-off: embedding the library and storing it in its Chroma collection (per index)
    setup_s        one-off per process: the keyword table (linear in the library, then cached)
    per_video_ms   steady state, after a warm-up pass: recall (Chroma nearest neighbours, keywords),
                   related videos, ranking and saving, averaged over --rounds passes with --force
and the cost ratio 10k/1k of per_video_ms (target < 2: recall must grow sub-linearly with the library).

    .venv/bin/python tools/bench_tagging.py [--rounds 5] [--index DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from videoagent.config import load_pipeline, load_profile, use_offline_env  # noqa: E402

use_offline_env()
from videoagent.index.store import Store  # noqa: E402
from videoagent.ingest.pipeline import Ingestor  # noqa: E402
from videoagent.models.registry import Models  # noqa: E402
from videoagent.tagging.library import Tag, TagLibrary  # noqa: E402
from videoagent.tagging.tagger import ContentRecall, Tagger  # noqa: E402

FIXTURES = ("narrated", "narrated_small", "speech", "launch", "linus", "bikes")
PERTURB = ("red", "blue", "green", "white", "black", "small", "large", "old", "wooden", "metal", "plastic", "toy")


def libraries() -> dict[str, TagLibrary]:
    base = TagLibrary.default().tags
    big, names = list(base), {t.name for t in base}
    for adjective in PERTURB:
        for tag in base:
            name = f"{adjective} {tag.name}"
            if len(big) >= 10_000:
                break
            if name not in names:
                names.add(name)
                big.append(Tag(name=name, parent=tag.name))
    return {"1k": TagLibrary(base[:1000], source="default[:1000]"), "10k": TagLibrary(big, source="default+perturbed")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--index", type=Path, help="index folder (kept); default: a temp folder")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    fixtures = Path(os.environ.get("VIDEOAGENT_FIXTURES", ROOT / ".fixtures"))
    manifest = json.loads((fixtures / "manifest.json").read_text())["fixtures"]
    store = Store(args.index or tempfile.mkdtemp(prefix="bench-tagging-"))
    profile = load_profile()
    models = Models.shared(profile)
    ingestor = Ingestor(store, profile, load_pipeline(), models)
    ids = [r.video_id for r in (ingestor.ingest_one(fixtures / manifest[n]["path"]) for n in FIXTURES if n in manifest)]
    models.text_encoder()  # loads are not part of any timing below

    report: dict = {"videos": len(ids), "rounds": args.rounds, "libraries": {}}
    for label, library in libraries().items():
        tagger = Tagger(store, models, library)
        started = time.perf_counter()
        plan = tagger.plan
        build_s = time.perf_counter() - started
        started = time.perf_counter()
        ContentRecall(store, library, plan, tagger.options)
        setup_s = time.perf_counter() - started
        tagger.tag(ids, force=True)  # warm-up: Chroma loads the collection's index on first query
        started = time.perf_counter()
        for _ in range(args.rounds):
            results = tagger.tag(ids, force=True)
        elapsed = time.perf_counter() - started
        per_video = elapsed / (args.rounds * len(ids))
        report["libraries"][label] = {
            "tags": len(library),
            "build_s": round(build_s, 2),
            "setup_s": round(setup_s, 2),
            "per_video_ms": round(per_video * 1000, 1),
            "videos_per_min": round(60 / per_video, 1),
            "tags_assigned": sum(len(r.tags) for r in results),
        }
    small, big = report["libraries"]["1k"], report["libraries"]["10k"]
    report["cost_ratio_10k_over_1k"] = round(big["per_video_ms"] / small["per_video_ms"], 2)
    if args.json:
        print(json.dumps(report))
        return
    print(f"{len(ids)} videos x {args.rounds} rounds (after a warm-up pass)")
    print(
        f"{'library':<8} {'tags':>6} {'build_s':>8} {'setup_s':>8} {'ms/video':>9} {'videos/min':>11} {'assigned':>9}"
    )
    for label, r in report["libraries"].items():
        print(
            f"{label:<8} {r['tags']:>6} {r['build_s']:>8} {r['setup_s']:>8} {r['per_video_ms']:>9}"
            f" {r['videos_per_min']:>11} {r['tags_assigned']:>9}"
        )
    print(f"cost ratio 10k/1k per video: {report['cost_ratio_10k_over_1k']} (target < 2)")


if __name__ == "__main__":
    main()
