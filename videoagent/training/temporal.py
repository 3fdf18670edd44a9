"""Training and evaluating temporal modules: (video, caption) manifests, cached frame features,
symmetric InfoNCE (the CLIP loss), and retrieval metrics (the order benchmark: benchmarks.py).

A manifest is CSV (header row) or JSONL with `path`, `caption` and optional `start_s`/`end_s`; relative
paths are read against the manifest's folder. Several captions of one clip are several rows.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..atomic import atomic_write
from ..media.frames import open_frames
from ..media.probe import MediaError, probe
from ..temporal.modules import TemporalModule, _encoder, masked_mean, pad

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClipRef:
    """One clip of one video file (seconds; end None = to the end)."""

    path: str
    start_s: float = 0.0
    end_s: float | None = None


@dataclass(frozen=True)
class Pair:
    clip: ClipRef
    caption: str


def read_manifest(path: str | Path) -> list[Pair]:
    """Rows of a CSV/JSONL manifest; a malformed row raises ValueError naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such manifest")
    if path.suffix.lower() in (".jsonl", ".json"):
        lines = path.read_text().splitlines()
        rows = []
        for n, line in enumerate(lines, 1):
            if line.strip():
                try:
                    rows.append((n, json.loads(line)))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{n}: not JSON ({exc.msg})") from None
    else:
        with path.open(newline="") as fh:
            rows = list(enumerate(csv.DictReader(fh), 2))
    pairs = []
    for n, row in rows:
        if not isinstance(row, dict) or not row.get("path") or not row.get("caption"):
            raise ValueError(f"{path}:{n}: needs `path` and `caption`")
        video = Path(row["path"]).expanduser()
        video = video if video.is_absolute() else path.parent / video
        try:
            start = float(row.get("start_s") or 0.0)
            end = float(row["end_s"]) if row.get("end_s") not in (None, "") else None
        except ValueError:
            raise ValueError(f"{path}:{n}: start_s/end_s must be seconds") from None
        pairs.append(Pair(ClipRef(str(video), start, end), str(row["caption"])))
    if not pairs:
        raise ValueError(f"{path}: no rows")
    return pairs


@dataclass
class PairData:
    """Frame features of V clips and C captions; caption c describes clip `target[c]`."""

    frames: np.ndarray  # [V,T,D] float32, zero after each clip's last frame
    frame_mask: np.ndarray  # [V,T] bool
    text: np.ndarray  # [C,D] sentence vectors
    target: np.ndarray  # [C] int
    tokens: np.ndarray | None = None  # [C,L,D] token features (for token-level modules)
    token_mask: np.ndarray | None = None  # [C,L] bool
    clips: list[ClipRef] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)

    def save(self, path: Path) -> None:
        arrays = {k: v for k, v in vars(self).items() if isinstance(v, np.ndarray)}
        meta = {"clips": [vars(c) for c in self.clips], "captions": self.captions}
        atomic_write(path, lambda f: np.savez(f, meta=np.array(json.dumps(meta)), **arrays))

    @classmethod
    def load(cls, path: Path) -> PairData:
        with np.load(path) as z:
            meta = json.loads(str(z["meta"]))
            arrays = {k: z[k] for k in z.files if k != "meta"}
        return cls(**arrays, clips=[ClipRef(**c) for c in meta["clips"]], captions=meta["captions"])


def _cache_key(pairs: list[Pair], encoder_name: str, n_frames: int) -> str:
    h = hashlib.sha256(json.dumps([encoder_name, n_frames]).encode())
    for p in pairs:
        stat = Path(p.clip.path).stat() if Path(p.clip.path).exists() else None
        h.update(json.dumps([vars(p.clip), p.caption, stat and (stat.st_size, stat.st_mtime_ns)]).encode())
    return h.hexdigest()[:16]


def extract_features(
    pairs: list[Pair],
    encoder,
    n_frames: int = 12,
    cache_dir: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    encode_captions: bool = True,
) -> PairData:
    """Encode each distinct clip's frames once (n_frames spread evenly over it) and every caption
    (unless not `encode_captions`: then `text` is [C, 0], for trainers that read the captions as text).

    Clips that cannot be decoded are dropped with their captions (logged). With `cache_dir`, the result
    is kept as an .npz keyed by the manifest rows, the files' sizes/mtimes and the encoder.
    """
    cache = None
    if cache_dir is not None:
        key = _cache_key(pairs, encoder.name, n_frames) + ("" if encode_captions else "-frames")
        cache = Path(cache_dir) / f"features-{key}.npz"
        if cache.exists():
            return PairData.load(cache)
    clips = list(dict.fromkeys(p.clip for p in pairs))
    feats: dict[ClipRef, np.ndarray] = {}
    for i, clip in enumerate(clips):
        try:
            info = probe(clip.path)
            end = min(clip.end_s if clip.end_s is not None else info.duration_s, info.duration_s)
            if end <= clip.start_s:
                raise MediaError(clip.path, f"empty clip [{clip.start_s}, {end}]")
            times = [clip.start_s + (k + 0.5) * (end - clip.start_s) / n_frames for k in range(n_frames)]
            feats[clip] = encoder.encode_images(open_frames(info.path).read(times))
        except MediaError as exc:
            log.warning("skipped: %s", exc)
        if progress:
            progress(i + 1, len(clips))
    kept = [c for c in clips if c in feats]
    if not kept:
        raise ValueError("no clip of the manifest could be decoded")
    index = {c: i for i, c in enumerate(kept)}
    rows = [p for p in pairs if p.clip in index]
    frames, mask = pad([feats[c] for c in kept])
    captions = [p.caption for p in rows]
    tokens = token_mask = None
    if not encode_captions:
        text = np.zeros((len(captions), 0), np.float32)
    elif hasattr(encoder, "encode_text_tokens"):
        text, tokens, token_mask = _batched_tokens(encoder, captions)
    else:
        text = encoder.encode_text(captions)
    data = PairData(
        frames.numpy(), mask.numpy(), text, np.array([index[p.clip] for p in rows]), tokens, token_mask,
        kept, captions,
    )  # fmt: skip
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        data.save(cache)
    return data


def _batched_tokens(encoder, captions: list[str], batch: int = 256):
    parts = [encoder.encode_text_tokens(captions[i : i + batch]) for i in range(0, len(captions), batch)]
    length = max(p[1].shape[1] for p in parts)
    tokens = np.concatenate([np.pad(p[1], ((0, 0), (0, length - p[1].shape[1]), (0, 0))) for p in parts])
    mask = np.concatenate([np.pad(p[2], ((0, 0), (0, length - p[2].shape[1]))) for p in parts])
    return np.concatenate([p[0] for p in parts]), tokens, mask


# ---- training --------------------------------------------------------------------------------
@dataclass
class FitConfig:
    epochs: int = 30
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.01
    seed: int = 0
    device: str = "cpu"


def _text_side(module: TemporalModule, tower: nn.Module | None, data: PairData, rows: np.ndarray, device: str):
    pooled = torch.from_numpy(data.text[rows]).to(device)
    tokens = mask = None
    if data.tokens is not None:
        tokens = torch.from_numpy(data.tokens[rows]).to(device)
        mask = torch.from_numpy(data.token_mask[rows]).to(device)
    if tower is not None:
        pooled, tokens = tower(pooled, tokens, mask)
    return module.encode_text(pooled, tokens, mask)


def _video_side(module: TemporalModule, data: PairData, videos: np.ndarray, device: str) -> Tensor:
    frames = torch.from_numpy(data.frames[videos]).to(device)
    return module(frames, torch.from_numpy(data.frame_mask[videos]).to(device))


def fit(
    module: TemporalModule,
    data: PairData,
    cfg: FitConfig,
    text_tower: nn.Module | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
) -> list[float]:
    """Train with the symmetric InfoNCE loss (learned temperature); returns the mean loss per epoch.

    Each epoch visits every clip once with one of its captions, so a batch never holds two captions
    of one clip (which would be false negatives). A module with no weights is left as it is.
    """
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    module.to(cfg.device).train()
    params = list(module.parameters())
    if text_tower is not None:
        text_tower.to(cfg.device).train()
        params += list(text_tower.parameters())
    if not params:
        module.eval()
        return []
    log_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07), device=cfg.device))
    opt = torch.optim.AdamW([*params, log_scale], lr=cfg.lr, weight_decay=cfg.weight_decay)
    by_clip: dict[int, list[int]] = {}
    for c, v in enumerate(data.target):
        by_clip.setdefault(int(v), []).append(c)
    clips = np.array(sorted(by_clip))
    # Captions with the same sentence vector are the same caption: in a batch, every clip they
    # describe is a positive (multi-positive InfoNCE), not a false negative.
    same_caption = np.unique(data.text, axis=0, return_inverse=True)[1].reshape(-1)
    history = []
    for epoch in range(cfg.epochs):
        order = rng.permutation(clips)
        losses = []
        for i in range(0, len(order), cfg.batch_size):
            videos = order[i : i + cfg.batch_size]
            if len(videos) < 2:
                continue
            rows = np.array([rng.choice(by_clip[int(v)]) for v in videos])
            v = _video_side(module, data, videos, cfg.device)
            t = _text_side(module, text_tower, data, rows, cfg.device)
            logits = log_scale.exp().clamp(max=100.0) * t @ v.t()
            group = torch.from_numpy(same_caption[rows])
            positives = (group[:, None] == group[None, :]).float().to(cfg.device)
            targets = positives / positives.sum(1, keepdim=True)  # symmetric: serves both directions
            loss = (F.cross_entropy(logits, targets) + F.cross_entropy(logits.t(), targets)) / 2
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        history.append(float(np.mean(losses)) if losses else float("nan"))
        if on_epoch:
            on_epoch(epoch, history[-1])
    module.eval()
    if text_tower is not None:
        text_tower.eval()
    return history


@torch.no_grad()
def similarity(
    module: TemporalModule, data: PairData, text_tower: nn.Module | None = None, device: str = "cpu", batch: int = 512
) -> np.ndarray:
    """[C,V] caption-to-clip scores."""
    module.to(device).eval()
    if text_tower is not None:
        text_tower.to(device).eval()
    videos = torch.cat(
        [_video_side(module, data, np.arange(i, min(i + batch, len(data.frames))), device)
         for i in range(0, len(data.frames), batch)]
    )  # fmt: skip
    texts = torch.cat(
        [_text_side(module, text_tower, data, np.arange(i, min(i + batch, len(data.text))), device)
         for i in range(0, len(data.text), batch)]
    )  # fmt: skip
    return (texts @ videos.t()).cpu().numpy()


def ranks_of(sim: np.ndarray, target: np.ndarray, seed: int = 0) -> np.ndarray:
    """1-based rank of each row's target column; ties are broken at random (seeded), not in its favour."""
    rng = np.random.default_rng(seed)
    own = sim[np.arange(len(sim)), target][:, None]
    greater = (sim > own).sum(1)
    ties = (sim == own).sum(1) - 1
    return 1 + greater + rng.integers(0, ties + 1)


def video_ranks(sim: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Video->text: for each clip, the 1-based rank of its best-ranked caption among all captions."""
    order = np.argsort(-sim.T, axis=1, kind="stable")
    return np.array([1 + int(np.flatnonzero(target[row] == v)[0]) for v, row in enumerate(order)])


def rank_metrics(ranks: np.ndarray | list[int]) -> dict[str, float]:
    """R@1/R@5/R@10 (percent), median and mean rank."""
    ranks = np.asarray(ranks, dtype=float)
    out = {f"R@{k}": float(100 * np.mean(ranks <= k)) for k in (1, 5, 10)}
    out.update(MdR=float(np.median(ranks)), MnR=float(np.mean(ranks)))
    return out


# ---- the frame-order benchmark ---------------------------------------------------------------
class CaptionTower(nn.Module):
    """The order benchmark's text side: word vectors + positions through one transformer layer.

    It stands in for CLIP's text tower (whose token features already know word order); every temporal
    module is trained with an identical tower, so only the video side differs.
    """

    def __init__(self, dim: int, max_len: int = 16):
        super().__init__()
        self.positions = nn.Embedding(max_len, dim)
        nn.init.normal_(self.positions.weight, std=0.02)
        self.layer = _encoder(dim, 1, None, 0.0)

    def forward(self, pooled: Tensor, tokens: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        pos = self.positions(torch.arange(tokens.shape[1], device=tokens.device)).unsqueeze(0)
        out = self.layer(tokens + pos, src_key_padding_mask=~mask) + tokens
        return pooled + masked_mean(out, mask), out
