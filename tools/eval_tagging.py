"""Evaluate bulk tagging on the labelled fixtures: precision@K and recall@K per channel and fused.

Labels: tests/data/tag_labels.yaml (expected / acceptable / forbidden tags per fixture). The fixtures are
ingested into --index (a temporary folder by default), then every recalled tag of every video is scored.
Rows:
    <channel>   the top K tags by that channel's score alone (text, keyword, visual, related)
    fused       the top K by the ranker's fused score, spread over the video's segments as `videoagent tag`
                spreads them (tagging/tagger.py `select`)
    assigned    what `videoagent tag` assigns: the same, at or above --min-score
P@K = correct tags (expected or acceptable) among the top K / K; R@K = expected tags found / expected
(videos with no expected tag are left out of R@K); forbidden = forbidden tags in the top K, summed.
Both are macro-averaged over videos.

--fit OUT.json fits the logistic ranker on the labels (positives: expected and acceptable; negatives:
forbidden and unlabelled candidates), reports it with leave-one-group-out cross-validation (a fixture
and its derived copies form one group, so no copy of a test video is seen in training) and saves the fit
on all videos for `videoagent tag --ranker OUT.json`.

    .venv/bin/python tools/eval_tagging.py [--top 10] [--fit ranker.json] [--index DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from videoagent.config import load_pipeline, load_profile, use_offline_env  # noqa: E402

use_offline_env()
from videoagent.index.store import Store  # noqa: E402
from videoagent.ingest.pipeline import Ingestor  # noqa: E402
from videoagent.models.registry import Models  # noqa: E402
from videoagent.tagging.ranker import FEATURES, Ranker  # noqa: E402
from videoagent.tagging.tagger import Candidate, Tagger, TagOptions, select  # noqa: E402

LABELS = ROOT / "tests" / "data" / "tag_labels.yaml"
CHANNELS = FEATURES


def fixture_paths(labels: dict, fixtures: Path, work: Path) -> dict[str, Path]:
    """Fixture name -> file, deriving `silent_of` copies (audio dropped, video stream copied) into `work`."""
    manifest = json.loads((fixtures / "manifest.json").read_text())["fixtures"]
    out = {}
    for name, spec in labels.items():
        source = spec.get("silent_of")
        if source:
            path = work / f"{name}.mp4"
            if not path.exists():
                src = fixtures / manifest[source]["path"]
                cmd = ["ffmpeg", "-loglevel", "error", "-y", "-i", str(src), "-an", "-c:v", "copy", str(path)]
                subprocess.run(cmd, check=True)
            out[name] = path
        elif name in manifest:
            out[name] = fixtures / manifest[name]["path"]
    return out


def group_of(name: str, labels: dict, fixtures: Path) -> str:
    manifest = json.loads((fixtures / "manifest.json").read_text())["fixtures"]
    spec = labels[name]
    return spec.get("silent_of") or manifest.get(name, {}).get("same_as") or name


def top_k(cands: dict[str, Candidate], score, k: int, min_score: float = 0.0) -> list[str]:
    ranked = sorted(((score(c), tag) for tag, c in cands.items()), key=lambda st: (-st[0], st[1]))
    return [tag for s, tag in ranked if s > 0 and s >= min_score][:k]


def expected(spec: dict) -> list[str]:
    """The tags a video must get: `expected` and its scene / setting / time-of-day tags (`settings`)."""
    return list(spec["expected"]) + list(spec.get("settings", []))


def metrics(rankings: dict[str, list[str]], labels: dict, k: int) -> dict[str, float]:
    precision, recall, forbidden = [], [], 0
    for name, tags in rankings.items():
        spec = labels[name]
        good = set(expected(spec)) | set(spec.get("acceptable", []))
        precision.append(sum(t in good for t in tags) / k)
        if expected(spec):
            recall.append(sum(t in tags for t in expected(spec)) / len(expected(spec)))
        forbidden += sum(t in spec.get("forbidden", []) for t in tags)
    return {
        "P@K": round(sum(precision) / max(len(precision), 1), 3),
        "R@K": round(sum(recall) / max(len(recall), 1), 3),
        "forbidden": forbidden,
    }


def evaluate(cands: dict[str, dict[str, Candidate]], labels: dict, ranker: Ranker, k: int, min_score: float) -> dict:
    rows = {}
    for ch in CHANNELS:
        rows[ch] = metrics(
            {n: top_k(c, lambda x, ch=ch: x.features.get(ch, 0.0), k) for n, c in cands.items()}, labels, k
        )
    rows["fused"] = metrics({n: [t for _, t in select(c, ranker, k)] for n, c in cands.items()}, labels, k)
    rows["assigned"] = metrics(
        {n: [t for _, t in select(c, ranker, k, min_score)] for n, c in cands.items()}, labels, k
    )
    return rows


def examples(cands: dict[str, Candidate], spec: dict) -> list[tuple[dict[str, float], bool]]:
    good = set(expected(spec)) | set(spec.get("acceptable", []))
    return [(c.features, tag in good) for tag, c in cands.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--min-score", type=float, default=TagOptions().min_score)
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument(
        "--fixtures", type=Path, default=Path(os.environ.get("VIDEOAGENT_FIXTURES", ROOT / ".fixtures"))
    )
    parser.add_argument("--index", type=Path, help="index folder to ingest into (kept); default: a temp folder")
    parser.add_argument("--ranker", type=Path, help="evaluate this fitted ranker instead of the default")
    parser.add_argument("--fit", type=Path, help="fit a ranker on the labels and save it here")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()

    labels = yaml.safe_load(args.labels.read_text())
    work = args.index or Path(tempfile.mkdtemp(prefix="eval-tagging-"))
    store = Store(work)
    profile = load_profile()
    models = Models.shared(profile)
    ingestor = Ingestor(store, profile, load_pipeline(), models)
    ids = {}
    for name, path in fixture_paths(labels, args.fixtures, work).items():
        result = ingestor.ingest_one(path)
        if result.status == "failed":
            print(f"{name}: ingest failed: {result.error}", file=sys.stderr)
            continue
        ids[name] = result.video_id
    ranker = Ranker.load(args.ranker) if args.ranker else Ranker.default()
    tagger = Tagger(store, models, options=TagOptions(top_k=args.top, min_score=args.min_score), ranker=ranker)
    by_id = tagger.candidates(list(ids.values()))
    cands = {name: by_id[vid] for name, vid in ids.items()}
    report = {
        "top_k": args.top,
        "library": {"version": tagger.library.version, "tags": len(tagger.library)},
        "channels": tagger.plan.channels,
        "videos": sorted(ids),
        "ranker": "fitted: " + str(args.ranker) if args.ranker else "default weighted sum",
        "rows": evaluate(cands, labels, ranker, args.top, args.min_score),
    }
    if args.fit:
        groups = {name: group_of(name, labels, args.fixtures) for name in cands}
        held_out: dict[str, dict[str, Candidate]] = {}
        fold_rankings: dict[str, list[str]] = {}
        for group in sorted(set(groups.values())):
            train = [ex for n, c in cands.items() if groups[n] != group for ex in examples(c, labels[n])]
            try:
                fold = Ranker.fit(train)
            except ValueError:
                continue  # a fold without both kinds of example cannot be fitted
            for n, c in cands.items():
                if groups[n] == group:
                    held_out[n] = c
                    fold_rankings[n] = top_k(c, lambda x, f=fold: f.score(x.features), args.top, args.min_score)
        fitted = Ranker.fit([ex for n, c in cands.items() for ex in examples(c, labels[n])])
        fitted.save(args.fit)
        report["fitted"] = {
            "path": str(args.fit),
            "weights": {k: round(v, 3) for k, v in fitted.weights.items()},
            "bias": round(fitted.bias, 3),
            "assigned, leave-one-group-out": metrics(fold_rankings, labels, args.top),
            "assigned, in-sample": evaluate(cands, labels, fitted, args.top, args.min_score)["assigned"],
        }
    if args.json:
        print(json.dumps(report))
        return
    print(f"library {report['library']}; channels {report['channels']}")
    print(f"videos: {', '.join(report['videos'])}; K = {args.top}; ranker: {report['ranker']}")
    print(f"{'':<10} {'P@K':>6} {'R@K':>6} {'forbidden':>10}")
    for row, m in report["rows"].items():
        print(f"{row:<10} {m['P@K']:>6.3f} {m['R@K']:>6.3f} {m['forbidden']:>10}")
    if args.fit:
        print(f"fitted ranker -> {args.fit}: {json.dumps(report['fitted'])}")


if __name__ == "__main__":
    main()
