#!/usr/bin/env python3
"""Do the temporal modules learn what they are for? A benchmark where only frame order decides the caption.

    .venv/bin/python tools/eval_temporal.py [--source synthetic|fixtures|imagenet ...] [--events 2 3] [--pca D]
                     [--modules mean weighted transformer tdb tab] [--epochs 30] [--json]

Each clip shows `events` concepts one after another (each for 2-6 frames) and is captioned
"A then B [then C]". The test split holds every ordering of concept sets never seen in training, so
all orderings of a set share one mean feature: mean pooling (and anything order-blind) is at chance,
1/events!, by construction. Every module is trained with the same data, text side (a small caption
tower standing in for CLIP's text transformer), loss (symmetric InfoNCE), epochs, batch size,
learning rate and seed; the table is text->clip R@1 on the test split.

Sources of frame features:
  synthetic  unit vectors per concept plus Gaussian noise (--dim, --concepts);
  fixtures   real frames: the colour/layout fingerprints of frames of each scene of the fixture
             videos (narrated's 5 photos, launch, city, bikes, diver, vtest, ...): one concept per scene.
  imagenet   the same frames as the default profile's image classifier embeds them (EfficientNet-Lite0's
             1280-d features, ingest/labels.py): the learned modules on the features the offline default
             indexes. A module trained on them (tools/train_temporal.py with that frame encoder) pools the
             `visual_imagenet-...` collections; without a checkpoint they are mean-pooled.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from videoagent.temporal.modules import MODULES, build
from videoagent.training.benchmarks import noisy_pools, order_benchmark
from videoagent.training.temporal import CaptionTower, FitConfig, fit, rank_metrics, ranks_of, similarity

REPO = Path(__file__).resolve().parent.parent
FIXTURE_CLIPS = ("narrated", "launch", "city", "bikes", "diver", "vtest60", "carphone", "speech", "linus")
FRAMES_PER_SCENE = 16
CUT_MARGIN_S = 0.2  # frames this close to a cut may blend the two shots


def fixture_pools(features: str = "fixtures") -> tuple[list[np.ndarray], list[str]]:
    """Features (fingerprints, or the image classifier's embeddings) of FRAMES_PER_SCENE frames spread
    over each scene of the fixture clips."""
    from videoagent.media.frames import open_frames
    from videoagent.models.encoders.fingerprint import Fingerprint

    root = Path(os.environ.get("VIDEOAGENT_FIXTURES") or REPO / ".fixtures")
    manifest = root / "manifest.json"
    if not manifest.exists():
        print(f"error: {manifest}: missing (run tools/make_fixtures.py)", file=sys.stderr)
        raise SystemExit(2)
    fixtures = json.loads(manifest.read_text())["fixtures"]
    pools, names = [], []
    if features == "imagenet":
        from videoagent.config import load_profile
        from videoagent.models.registry import Models

        classifier = Models(load_profile()).image_classifier()
        embed = lambda frames: classifier.look(frames)[0]  # noqa: E731
    else:
        embed = Fingerprint().encode_images
    for name in FIXTURE_CLIPS:
        if name not in fixtures:
            continue
        entry = fixtures[name]
        bounds = [0.0, *entry.get("cuts", []), entry["duration_s"]]
        frames = open_frames(root / entry["path"])
        for i, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False)):
            if b - a < 1.0:
                continue
            times = np.linspace(a + CUT_MARGIN_S, b - CUT_MARGIN_S, FRAMES_PER_SCENE).tolist()
            pools.append(embed(frames.read(times)))
            names.append(f"{name}#{i}")
    return pools, names


def principal_components(pools: list[np.ndarray], dims: int) -> tuple[list[np.ndarray], float]:
    """Every frame's features projected onto the first `dims` principal components of all the frames (no
    labels are read), rescaled to unit length; and the share of the variance those components keep. The
    learned modules then train in minutes instead of hours on 2 cores (1280-d inputs: over 10 minutes each)."""
    from sklearn.decomposition import PCA

    pca = PCA(n_components=dims, random_state=0).fit(np.concatenate(pools))
    projected = [pca.transform(p).astype(np.float32) for p in pools]
    return [p / np.linalg.norm(p, axis=1, keepdims=True).clip(1e-8) for p in projected], float(
        pca.explained_variance_ratio_.sum()
    )


def run(pools: list[np.ndarray], events: int, modules: list[str], cfg: FitConfig, max_sets: int) -> dict:
    task = order_benchmark(pools, events=events, instances=4, seed=cfg.seed, max_sets=max_sets)
    dim = pools[0].shape[1]
    out = {"events": events, "chance_R@1": 100 * task.chance, "train_clips": len(task.train.frames),
           "test_clips": len(task.test.frames), "modules": {}}  # fmt: skip
    for name in modules:
        torch.manual_seed(cfg.seed)
        module, tower = build(name, dim), CaptionTower(dim)
        started = time.perf_counter()
        losses = fit(module, task.train, cfg, text_tower=tower)
        spent = time.perf_counter() - started
        metrics = rank_metrics(ranks_of(similarity(module, task.test, tower), task.test.target))
        out["modules"][name] = {**metrics, "train_s": spent, "final_loss": losses[-1]}
        print(f"  {events} events, {name}: R@1 {metrics['R@1']:.1f} ({spent:.0f} s)", file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", nargs="+", choices=("synthetic", "fixtures", "imagenet"), default=["synthetic"])
    parser.add_argument("--events", nargs="+", type=int, default=[2, 3])
    parser.add_argument("--modules", nargs="+", choices=list(MODULES), default=list(MODULES))
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--dim", type=int, default=64, help="synthetic feature size")
    parser.add_argument("--pca", type=int, default=0, metavar="D",
                        help="fixtures / imagenet: project the frame features onto their first D principal "
                             "components first (0: keep them whole)")  # fmt: skip
    parser.add_argument("--concepts", type=int, default=12, help="synthetic concepts")
    parser.add_argument("--max-sets", type=int, default=80, help="concept sets drawn per task")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (small models: 1 is fastest)")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    args = parser.parse_args(argv)
    if any(e < 2 for e in args.events):
        parser.error("--events: order needs at least 2 events")
    torch.set_num_threads(args.threads)
    cfg = FitConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed)

    results = []
    for source in args.source:
        if source == "synthetic":
            pools, about = noisy_pools(args.concepts, args.dim, seed=args.seed), f"{args.concepts} concepts"
        else:
            pools, names = fixture_pools(source)
            about = f"{len(names)} fixture scenes"
            if args.pca:
                pools, kept = principal_components(pools, args.pca)
                about += f", PCA to {args.pca} dims ({kept:.0%} of the variance)"
        print(f"{source}: {about}, {pools[0].shape[1]}-d features", file=sys.stderr)
        for events in args.events:
            results.append({"source": source, **run(pools, events, args.modules, cfg, args.max_sets)})

    if args.json:
        print(json.dumps({"config": vars(args), "results": results}))
        return 0
    columns = [f"{r['source']} {r['events']}ev" for r in results]
    print(f"text->clip R@1 (%) on unseen concept sets, every ordering in the gallery; "
          f"{args.epochs} epochs, batch {args.batch_size}, lr {args.lr}, seed {args.seed}")  # fmt: skip
    print(f"{'module':<13}" + "".join(f"{c:>16}" for c in columns))
    print(f"{'chance':<13}" + "".join(f"{r['chance_R@1']:>16.1f}" for r in results))
    for name in args.modules:
        cells = [f"{r['modules'][name]['R@1']:.1f} ({r['modules'][name]['train_s']:.0f}s)" for r in results]
        print(f"{name:<13}" + "".join(f"{c:>16}" for c in cells))
    print(
        "train/test clips: "
        + ", ".join(f"{c} {r['train_clips']}/{r['test_clips']}" for c, r in zip(columns, results, strict=True))
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
