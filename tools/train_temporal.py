#!/usr/bin/env python3
"""Train a temporal module on (video, caption) pairs; the checkpoint plugs into ingest.

    .venv/bin/python tools/train_temporal.py MANIFEST --module tdb --out ckpt.pt [--profile hub]
        [--val MANIFEST] [--frames 12] [--epochs 30] [--batch-size 128] [--lr 1e-3] [--cache DIR] [--json]

MANIFEST is CSV (header) or JSONL with `path`, `caption` and optional `start_s`/`end_s` (relative paths
are read against the manifest's folder; several captions of a clip are several rows). Each clip's
--frames frames are encoded once by the profile's frame encoder and cached (--cache, by default
$XDG_CACHE_HOME/videoagent/temporal-features); captions go through the same model's text tower
(frozen). The module is trained with the symmetric InfoNCE (CLIP) loss and saved with the frame
encoder's name and size, so ingest uses it only with features of that encoder:

    # my-pipeline.yaml
    temporal: {module: tdb, checkpoint: /path/ckpt.pt}
    videoagent ingest VIDEOS --pipeline my-pipeline.yaml --profile hub

Text->video R@1 of the trained module and of plain mean pooling are printed for --val (else for the
training pairs, which only shows the fit).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest")
    parser.add_argument("--module", required=True, help="weighted | transformer | tdb | tab")
    parser.add_argument("--out", required=True, help="checkpoint file to write")
    parser.add_argument("--profile", default=None, help="model profile whose frame encoder makes the features")
    parser.add_argument("--val", help="held-out manifest for the reported R@1")
    parser.add_argument("--frames", type=int, default=12, help="frames per clip (at most the module's 64)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--layers", type=int, default=2, help="temporal transformer layers")
    parser.add_argument("--centers", type=int, default=8, help="tab: shared centres")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=None, help="cpu | cuda (default: the profile's)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--cache", default=None, help="feature cache folder")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    args = parser.parse_args(argv)
    from videoagent.config import use_offline_env

    use_offline_env()

    import torch

    from videoagent.config import load_profile
    from videoagent.models.registry import Models
    from videoagent.models.weights import cache_dir
    from videoagent.temporal.modules import MODULES, Mean, build, save_checkpoint
    from videoagent.training.temporal import (
        FitConfig,
        extract_features,
        fit,
        rank_metrics,
        ranks_of,
        read_manifest,
        similarity,
    )

    if args.module not in MODULES or args.module == "mean":
        fail(f"--module {args.module}: expected one of {', '.join(m for m in MODULES if m != 'mean')}")
    try:
        profile = load_profile(args.profile)
        pairs = read_manifest(args.manifest)
        val_pairs = read_manifest(args.val) if args.val else None
    except ValueError as exc:
        fail(str(exc))
    if args.threads:
        torch.set_num_threads(args.threads)
    models = Models.shared(profile)
    encoder = models.frame_encoder()
    if not getattr(encoder, "learned", False) or not hasattr(encoder, "encode_text"):
        fail(
            f"frame encoder {getattr(encoder, 'name', None)} of profile {profile.name} is not an image-text "
            "model: training needs CLIP weights, whose text tower encodes the captions (see `videoagent models`)"
        )
    cache = Path(args.cache) if args.cache else cache_dir() / "temporal-features"

    def progress(i: int, n: int) -> None:
        print(f"\rencoded {i}/{n} clips", end="\n" if i == n else "", file=sys.stderr)

    try:
        data = extract_features(pairs, encoder, args.frames, cache, progress)
        val = extract_features(val_pairs, encoder, args.frames, cache, progress) if val_pairs else data
    except ValueError as exc:
        fail(f"{args.manifest}: {exc}")
    settings = {"layers": args.layers, "max_frames": max(64, args.frames)} if args.module != "weighted" else {}
    if args.module == "tab":
        settings["centers"] = args.centers
    module = build(args.module, encoder.dim, **settings)
    cfg = FitConfig(args.epochs, args.batch_size, args.lr, seed=args.seed, device=args.device or models.device)
    losses = fit(
        module,
        data,
        cfg,
        on_epoch=lambda e, loss: print(f"epoch {e + 1}/{cfg.epochs}: loss {loss:.4f}", file=sys.stderr),
    )
    scores = {
        "trained": rank_metrics(ranks_of(similarity(module, val, device=cfg.device), val.target)),
        "mean": rank_metrics(ranks_of(similarity(Mean(encoder.dim), val, device=cfg.device), val.target)),
    }
    ckpt_id = save_checkpoint(
        module.cpu(),
        args.out,
        encoder.name,
        manifest=str(Path(args.manifest).resolve()),
        clips=len(data.clips),
        captions=len(data.captions),
        frames=args.frames,
        epochs=args.epochs,
        final_loss=losses[-1] if losses else None,
        val_R1=scores["trained"]["R@1"],
    )
    doc = {
        "checkpoint": str(Path(args.out).resolve()),
        "id": ckpt_id,
        "module": args.module,
        "frame_encoder": encoder.name,
        "clips": len(data.clips),
        "captions": len(data.captions),
        "losses": losses,
        "evaluated_on": "val" if val_pairs else "train",
        "text_to_video": scores,
    }
    if args.json:
        print(json.dumps(doc))
    else:
        print(f"wrote {doc['checkpoint']} ({args.module}:{ckpt_id}, for {encoder.name})")
        for name, m in scores.items():
            print(
                f"  {doc['evaluated_on']} text->video {name:<8} R@1 {m['R@1']:.1f}  R@5 {m['R@5']:.1f}  MdR {m['MdR']}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
