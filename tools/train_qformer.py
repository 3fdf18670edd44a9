#!/usr/bin/env python3
"""Train a video Q-Former (videoagent/temporal/qformer.py) to caption clips through a frozen LLM; the checkpoint
plugs into ingest's captions stage.

    .venv/bin/python tools/train_qformer.py MANIFEST --out qformer.pt [--profile hub] [--llm MODEL]
        [--val MANIFEST] [--frames 4] [--epochs 20] [--batch-size 4] [--lr 5e-4] [--queries 8] [--json]

MANIFEST is the same CSV/JSONL as tools/train_temporal.py (`path`, `caption`, optional `start_s`/`end_s`).
Each clip's --frames frames are encoded once by the profile's frame encoder (cached; ingest gives a
segment one keyframe per 2 s, at most 8, so match --frames to your segments' length); only the Q-Former
and its projection learn, with the LLM's next-token loss on the captions. --llm (default: the profile's
local LLM) is the frozen LLM; the checkpoint records it and the frame encoder, and ingest loads both:

    # my-pipeline.yaml
    captions: {checkpoint: /path/qformer.pt}
    videoagent ingest VIDEOS --pipeline my-pipeline.yaml --profile hub

The report lists each --val clip's generated caption beside its reference (training clips without --val,
which only shows the fit). A useful captioner needs real image-text features (CLIP) and many captioned
clips; none ships here.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest")
    parser.add_argument("--out", required=True, help="checkpoint file to write")
    parser.add_argument("--profile", default=None, help="model profile whose frame encoder makes the features")
    parser.add_argument("--llm", default=None, help="frozen local LLM: bundled:NAME, a .gguf, or an HF folder")
    parser.add_argument("--val", help="held-out manifest whose clips are captioned in the report")
    parser.add_argument("--frames", type=int, default=4, help="frames per clip")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--queries", type=int, default=8, help="soft-prompt length")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--cache", default=None, help="feature cache folder")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    args = parser.parse_args(argv)
    from videoagent.config import use_offline_env

    use_offline_env()

    import torch

    from videoagent.config import LlmConfig, load_profile
    from videoagent.models.registry import Models
    from videoagent.models.weights import MissingWeights, cache_dir
    from videoagent.qa.llm import load_local
    from videoagent.temporal.qformer import Captioner, QFormerSettings, VideoQFormer, save_checkpoint
    from videoagent.training.qformer import fit
    from videoagent.training.temporal import extract_features, read_manifest

    try:
        profile = load_profile(args.profile)
        pairs = read_manifest(args.manifest)
        val_pairs = read_manifest(args.val) if args.val else None
    except ValueError as exc:
        fail(str(exc))
    if args.threads:
        torch.set_num_threads(args.threads)
    encoder = Models.shared(profile).frame_encoder()
    if encoder is None:
        fail(f"profile {profile.name} has no frame encoder (see `videoagent models`)")
    llm_cfg = LlmConfig(model=args.llm) if args.llm else profile.llm
    if args.llm and not args.llm.startswith("bundled:") and not args.llm.endswith(".gguf"):
        llm_cfg = LlmConfig(backend="hf", model=args.llm)
    if llm_cfg.backend not in ("local-gguf", "hf"):
        fail(f"the Q-Former needs a local LLM (its input embeddings), not the {llm_cfg.backend} backend: use --llm")
    try:
        llm = load_local(llm_cfg)
    except MissingWeights as exc:
        fail(str(exc))
    cache = Path(args.cache) if args.cache else cache_dir() / "qformer-features"

    def progress(i: int, n: int) -> None:
        print(f"\rencoded {i}/{n} clips", end="\n" if i == n else "", file=sys.stderr)

    def clips(data):
        return [data.frames[t][data.frame_mask[t]] for t in data.target]

    try:
        data = extract_features(pairs, encoder, args.frames, cache, progress, encode_captions=False)
        val = (
            extract_features(val_pairs, encoder, args.frames, cache, progress, encode_captions=False)
            if val_pairs
            else data
        )
    except ValueError as exc:
        fail(f"{args.manifest}: {exc}")
    llm_dim = llm._model.get_input_embeddings().embedding_dim
    settings = QFormerSettings(queries=args.queries, max_frames=max(32, args.frames))
    captioner = Captioner(VideoQFormer(encoder.dim, llm_dim, settings), llm)
    losses = fit(captioner, clips(data), data.captions, args.epochs, args.batch_size, args.lr, args.seed)
    for epoch, loss in enumerate(losses, 1):
        print(f"epoch {epoch}/{args.epochs}: loss {loss:.4f}", file=sys.stderr)
    shown = sorted(set(val.target.tolist()), key=val.target.tolist().index)
    generated = captioner.caption([val.frames[t][val.frame_mask[t]] for t in shown])
    samples = [
        {"clip": vars(val.clips[t]), "reference": val.captions[list(val.target).index(t)], "generated": g}
        for t, g in zip(shown, generated, strict=True)
    ]
    ckpt_id = save_checkpoint(
        captioner.qformer,
        args.out,
        encoder.name,
        llm_cfg,
        manifest=str(Path(args.manifest).resolve()),
        clips=len(data.clips),
        captions=len(data.captions),
        frames=args.frames,
        epochs=args.epochs,
        final_loss=losses[-1],
    )
    doc = {
        "checkpoint": str(Path(args.out).resolve()),
        "id": ckpt_id,
        "frame_encoder": encoder.name,
        "llm": llm_cfg.model,
        "clips": len(data.clips),
        "captions": len(data.captions),
        "losses": losses,
        "captioned": "val" if val_pairs else "train",
        "samples": samples,
    }
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(f"checkpoint {doc['checkpoint']} (id {ckpt_id}); loss {losses[0]:.3f} -> {losses[-1]:.3f}")
        for s in samples:
            print(f"  {Path(s['clip']['path']).name} [{s['clip']['start_s']}-{s['clip']['end_s']}]")
            print(f"    reference: {s['reference']}\n    generated: {s['generated']}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(main())
