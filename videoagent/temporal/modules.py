"""Temporal aggregation: a segment's frame features -> one video embedding (torch modules, trainable).

Modules (registry `MODULES`, named by `videoagent/pipelines/*.yaml` `temporal.module`):
    mean         CLIP4Clip meanP: the masked mean of the frame features. No weights.
    weighted     VALLEY v2: a linear score per frame, softmax over the frames, weighted sum.
    transformer  VALLEY v3 / CLIP4Clip seqTransf: a transformer over frames + position embeddings,
                 its output added to the frames, then mean-pooled.
    tdb          CLIP2Video Temporal Difference Block: adjacent-frame differences go through an
                 attention layer, are interleaved between the frame tokens (frame and type position
                 embeddings), a temporal transformer runs over the interleaved sequence, and the frame
                 positions are kept (added to the frames, mean-pooled).
    tab          CLIP2Video Temporal Alignment Block: K shared centres; frame tokens and caption tokens
                 are each soft-assigned to the centres (residuals to the centre embeddings), giving an
                 aligned video vector and an aligned text vector; combined with a global branch (`tdb`).

The one interface:
    module(frames [B,T,D] float, mask [B,T] bool | None) -> [B, out_dim], unit length
        mask[b,t] is True for a real frame; padded positions are ignored, so a video gives the same
        vector whatever it is padded to. Every row needs at least one real frame.
    module.encode_text(pooled [B,D], tokens [B,L,D] | None, token_mask [B,L] | None) -> [B, out_dim]
        pooled is the text tower's sentence embedding (CLIP's projected EOT feature); tokens are its
        projected per-token features (only `tab` reads them: `module.uses_text_tokens`).
    The video-text score is the dot product of the two, so any module's vectors can go in a
    vector index. `tab` returns [sqrt(w)*global, sqrt(1-w)*aligned] (out_dim = 2D), whose dot
    product is CLIP2Video's w*global + (1-w)*aligned similarity.

Checkpoints (tools/train_temporal.py) record the module, its settings and the frame encoder it was
trained for; `pooler_for` refuses a checkpoint made for another encoder, and a learned module with no
checkpoint is never run with random weights: ingest falls back to `mean` and says so.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..atomic import atomic_write
from . import MODULE_NAMES

log = logging.getLogger(__name__)
CHECKPOINT_FORMAT = "videoagent-temporal/1"


def _heads(dim: int) -> int:
    return next(h for h in (8, 4, 2, 1) if dim % h == 0 and dim // h >= 8 or h == 1)


def _valid(frames: Tensor, mask: Tensor | None) -> Tensor:
    if mask is None:
        return torch.ones(frames.shape[:2], dtype=torch.bool, device=frames.device)
    mask = mask.to(device=frames.device, dtype=torch.bool)
    if not bool(mask.any(dim=1).all()):
        raise ValueError("every video needs at least one unmasked frame")
    return mask


def masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    """Mean over dim 1 of the positions where mask is True: [B,T,D], [B,T] -> [B,D]."""
    m = mask.unsqueeze(-1).to(x.dtype)
    return (x * m).sum(1) / m.sum(1).clamp_min(1.0)


def _encoder(dim: int, layers: int, heads: int | None, dropout: float) -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(
        dim, heads or _heads(dim), dim_feedforward=4 * dim, dropout=dropout, batch_first=True, norm_first=True
    )
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)


def _attend(encoder: nn.TransformerEncoder, x: Tensor, valid: Tensor) -> Tensor:
    # A row with no valid key would give NaN (softmax over nothing), and 0 * NaN poisons the rows that
    # read it: let such rows attend to their first (ignored) position instead.
    keep = valid.clone()
    keep[~keep.any(dim=1), 0] = True
    return encoder(x, src_key_padding_mask=~keep)


class TemporalModule(nn.Module):
    """Base: frames [B,T,D] + mask [B,T] -> unit-length [B,out_dim]. See the module docstring."""

    name = "base"
    learned = True
    uses_text_tokens = False
    max_frames: int | None = None  # longest sequence the module takes (position embeddings)

    def __init__(self, dim: int, **settings: Any):
        super().__init__()
        self.dim = dim
        self.settings = settings  # constructor keywords: enough to rebuild it from a checkpoint

    @property
    def out_dim(self) -> int:
        return self.dim

    def encode_text(self, pooled: Tensor, tokens: Tensor | None = None, token_mask: Tensor | None = None) -> Tensor:
        return F.normalize(pooled.float(), dim=-1)


class Mean(TemporalModule):
    """CLIP4Clip meanP."""

    name = "mean"
    learned = False

    def forward(self, frames: Tensor, mask: Tensor | None = None) -> Tensor:
        return F.normalize(masked_mean(F.normalize(frames, dim=-1), _valid(frames, mask)), dim=-1)


class Weighted(TemporalModule):
    """VALLEY v2: softmax over per-frame linear scores (starts as the mean: the scores start at zero)."""

    name = "weighted"

    def __init__(self, dim: int):
        super().__init__(dim)
        self.score = nn.Linear(dim, 1, bias=False)  # a bias would cancel out in the softmax
        nn.init.zeros_(self.score.weight)

    def forward(self, frames: Tensor, mask: Tensor | None = None) -> Tensor:
        valid = _valid(frames, mask)
        x = F.normalize(frames, dim=-1)
        logits = self.score(x).squeeze(-1).masked_fill(~valid, float("-inf"))
        weights = torch.softmax(logits, dim=1).unsqueeze(-1)
        return F.normalize((weights * x).sum(1), dim=-1)


class _Sequential(TemporalModule):
    """Shared by the modules that see frame order: frame position embeddings, a transformer."""

    def __init__(self, dim: int, layers: int = 2, heads: int | None = None, max_frames: int = 64, dropout: float = 0.0):
        super().__init__(dim, layers=layers, heads=heads, max_frames=max_frames, dropout=dropout)
        self.max_frames = max_frames
        self.positions = nn.Embedding(max_frames, dim)
        nn.init.normal_(self.positions.weight, std=0.02)
        self.transformer = _encoder(dim, layers, heads, dropout)

    def _positions(self, frames: Tensor) -> Tensor:
        t = frames.shape[1]
        if t > self.max_frames:
            raise ValueError(f"{self.name}: {t} frames, at most {self.max_frames} (sample fewer)")
        return self.positions(torch.arange(t, device=frames.device)).unsqueeze(0)


class TemporalTransformer(_Sequential):
    """VALLEY v3: transformer over frames with position embeddings, its output added to the frames' mean."""

    name = "transformer"

    def forward(self, frames: Tensor, mask: Tensor | None = None) -> Tensor:
        valid = _valid(frames, mask)
        x = F.normalize(frames, dim=-1)
        h = _attend(self.transformer, x + self._positions(x), valid)
        return F.normalize(masked_mean(x, valid) + masked_mean(h, valid), dim=-1)


class TDB(_Sequential):
    """CLIP2Video Temporal Difference Block over a temporal transformer."""

    name = "tdb"

    def __init__(self, dim: int, layers: int = 2, heads: int | None = None, max_frames: int = 64, dropout: float = 0.0):
        super().__init__(dim, layers, heads, max_frames, dropout)
        self.types = nn.Embedding(2, dim)  # 0: frame token, 1: difference token
        nn.init.normal_(self.types.weight, std=0.02)
        self.difference_attention = _encoder(dim, 1, heads, dropout)
        self.difference_norm = nn.LayerNorm(dim)

    def forward(self, frames: Tensor, mask: Tensor | None = None) -> Tensor:
        valid = _valid(frames, mask)
        x = F.normalize(frames, dim=-1)
        b, t, d = x.shape
        pos = self._positions(x).expand(b, -1, -1)
        tokens, token_pos, token_valid, token_type = x, pos, valid, torch.zeros(b, t, dtype=torch.long)
        if t > 1:
            diff = x[:, 1:] - x[:, :-1]
            diff_valid = valid[:, 1:] & valid[:, :-1]
            diff = _attend(self.difference_attention, diff + pos[:, 1:], diff_valid)
            diff = 2 * torch.sigmoid(self.difference_norm(diff)) - 1  # bounded like a feature difference
            # Interleave: f0, d0, f1, d1, ..., f(T-1); difference t sits between frames t and t+1.
            pad = x.new_zeros(b, 1, d)
            tokens = torch.stack([x, torch.cat([diff, pad], 1)], 2).reshape(b, 2 * t, d)[:, :-1]
            token_pos = torch.stack([pos, pos], 2).reshape(b, 2 * t, d)[:, :-1]
            diff_mask = torch.cat([diff_valid, valid.new_zeros(b, 1)], 1)
            token_valid = torch.stack([valid, diff_mask], 2).reshape(b, 2 * t)[:, :-1]
            token_type = torch.tensor([0, 1]).repeat(t)[:-1].expand(b, -1)
        h = _attend(self.transformer, tokens + token_pos + self.types(token_type.to(x.device)), token_valid)
        frames_out = F.normalize(h[:, ::2] + x, dim=-1)  # keep the frame positions
        return F.normalize(masked_mean(frames_out, valid), dim=-1)


class TAB(TemporalModule):
    """CLIP2Video Temporal Alignment Block, with a `tdb` global branch (the paper's full model)."""

    name = "tab"
    uses_text_tokens = True

    def __init__(
        self,
        dim: int,
        centers: int = 8,
        center_weight: float = 0.5,
        layers: int = 2,
        heads: int | None = None,
        max_frames: int = 64,
        dropout: float = 0.0,
    ):
        super().__init__(
            dim,
            centers=centers,
            center_weight=center_weight,
            layers=layers,
            heads=heads,
            max_frames=max_frames,
            dropout=dropout,
        )
        if not 0.0 < center_weight < 1.0:
            raise ValueError("tab: center_weight must be in (0, 1)")
        self.max_frames = max_frames
        self.center_weight = center_weight
        self.global_branch = TDB(dim, layers, heads, max_frames, dropout)
        self.weight_centers = nn.Parameter(torch.randn(centers, dim) * dim**-0.5)
        self.embedding_centers = nn.Parameter(torch.randn(centers, dim) * dim**-0.5)
        # Frame tokens get temporal context (one layer, positions) before the assignment, as in the paper.
        self.context_positions = nn.Embedding(max_frames, dim)
        nn.init.normal_(self.context_positions.weight, std=0.02)
        self.context = _encoder(dim, 1, heads, dropout)

    @property
    def out_dim(self) -> int:
        return 2 * self.dim

    def align(self, tokens: Tensor, valid: Tensor) -> Tensor:
        """Soft-assign tokens [B,N,D] to the shared centres; the unit-length mean of per-centre residuals."""
        assign = torch.softmax(tokens @ self.weight_centers.t(), dim=-1)  # [B,N,K]
        residual = assign.unsqueeze(-1) * (tokens.unsqueeze(2) - self.embedding_centers)  # [B,N,K,D]
        per_center = (residual * valid[:, :, None, None].to(tokens.dtype)).sum(1)  # [B,K,D]
        return F.normalize(F.normalize(per_center, dim=-1).mean(1), dim=-1)

    def _join(self, global_vec: Tensor, aligned: Tensor) -> Tensor:
        w = self.center_weight
        return torch.cat([math.sqrt(w) * global_vec, math.sqrt(1 - w) * aligned], dim=-1)

    def forward(self, frames: Tensor, mask: Tensor | None = None) -> Tensor:
        valid = _valid(frames, mask)
        x = F.normalize(frames, dim=-1)
        t = x.shape[1]
        if t > self.max_frames:
            raise ValueError(f"tab: {t} frames, at most {self.max_frames} (sample fewer)")
        pos = self.context_positions(torch.arange(t, device=x.device)).unsqueeze(0)
        context = _attend(self.context, x + pos, valid) + x
        tokens, token_valid = torch.cat([x, context], 1), torch.cat([valid, valid], 1)
        return self._join(self.global_branch(frames, valid), self.align(tokens, token_valid))

    def encode_text(self, pooled: Tensor, tokens: Tensor | None = None, token_mask: Tensor | None = None) -> Tensor:
        if tokens is None:
            raise ValueError("tab needs the text tower's token features (uses_text_tokens)")
        valid = _valid(tokens, token_mask)
        return self._join(F.normalize(pooled.float(), dim=-1), self.align(tokens.float(), valid))


MODULES: dict[str, type[TemporalModule]] = {cls.name: cls for cls in (Mean, Weighted, TemporalTransformer, TDB, TAB)}
if tuple(MODULES) != MODULE_NAMES:  # config.py checks `temporal.module` against the light copy of the names
    raise ImportError(f"videoagent.temporal.MODULE_NAMES {MODULE_NAMES} != MODULES {tuple(MODULES)}")


def build(name: str, dim: int, **settings: Any) -> TemporalModule:
    if name not in MODULES:
        raise ValueError(f"unknown temporal module {name!r} (known: {', '.join(MODULES)})")
    return MODULES[name](dim, **settings)


# ---- checkpoints -----------------------------------------------------------------------------
def save_checkpoint(module: TemporalModule, path: str | Path, frame_encoder: str, **info: Any) -> str:
    """Write a checkpoint for `module` trained on `frame_encoder` features; returns its id."""
    return write_checkpoint(
        {
            "format": CHECKPOINT_FORMAT,
            "module": module.name,
            "dim": module.dim,
            "settings": module.settings,
            "frame_encoder": frame_encoder,
            "info": info,
            "state_dict": {k: v.detach().cpu() for k, v in module.state_dict().items()},
        },
        path,
    )


def write_checkpoint(data: dict[str, Any], path: str | Path) -> str:
    """torch.save `data` to `path` atomically (a crash leaves the old file or none); returns its id."""
    return checkpoint_id(atomic_write(path, lambda f: torch.save(data, f)))


def read_checkpoint(path: str | Path, fmt: str, kind: str) -> tuple[Path, dict[str, Any]]:
    """The resolved path and contents of a checkpoint written by `write_checkpoint` in format `fmt`;
    FileNotFoundError / ValueError name the file and the `kind` of checkpoint expected."""
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such {kind} checkpoint")
    data = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(data, dict) or data.get("format") != fmt:
        raise ValueError(f"{path}: not a videoagent {kind} checkpoint")
    return path, data


def checkpoint_id(path: str | Path) -> str:
    """The first 12 hex digits of the file's sha256: what the index records about a checkpoint."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


@dataclass(frozen=True)
class Checkpoint:
    module: TemporalModule
    frame_encoder: str
    id: str
    path: str
    info: dict[str, Any]


def load_checkpoint(path: str | Path) -> Checkpoint:
    path, data = read_checkpoint(path, CHECKPOINT_FORMAT, "temporal")
    module = build(data["module"], int(data["dim"]), **data["settings"])
    module.load_state_dict(data["state_dict"])
    return Checkpoint(module.eval(), data["frame_encoder"], checkpoint_id(path), str(path), data.get("info", {}))


# ---- pooling for ingest and queries ---------------------------------------------------------
@dataclass
class Pooler:
    """A temporal module ready for numpy callers, plus what the index records about it."""

    module: TemporalModule
    checkpoint: Checkpoint | None = None
    device: str = "cpu"

    @property
    def tag(self) -> str:
        return self.module.name if self.checkpoint is None else f"{self.module.name}:{self.checkpoint.id}"

    @property
    def suffix(self) -> str:
        """Appended to a collection name: vectors of different modules/checkpoints never share one."""
        return "" if self.checkpoint is None else f"__{self.module.name}-{self.checkpoint.id}"

    @property
    def meta(self) -> dict[str, str]:
        """Row metadata that lets a query find and check the module that made the row."""
        if self.checkpoint is None:
            return {"temporal": self.module.name}
        return {"temporal": self.module.name, "temporal_id": self.checkpoint.id, "temporal_path": self.checkpoint.path}

    @torch.inference_mode()
    def pool(self, groups: list[np.ndarray], batch_size: int = 256) -> np.ndarray:
        """Frame features of N videos (each [T_i, D]) -> [N, out_dim] float32, unit length."""
        limit = self.module.max_frames
        groups = [_subsample(np.asarray(g, np.float32), limit) for g in groups]
        out = []
        for i in range(0, len(groups), batch_size):
            frames, mask = pad(groups[i : i + batch_size])
            out.append(self.module(frames.to(self.device), mask.to(self.device)).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.module.out_dim), np.float32)

    @torch.inference_mode()
    def encode_text(self, encoder: Any, texts: list[str]) -> np.ndarray:
        """Texts -> [N, out_dim] in this module's space, through the frame encoder's text tower."""
        if self.module.uses_text_tokens:
            pooled, tokens, mask = encoder.encode_text_tokens(texts)
            args = (torch.from_numpy(pooled), torch.from_numpy(tokens), torch.from_numpy(mask))
        else:
            args = (torch.from_numpy(encoder.encode_text(texts)),)
        args = tuple(a.to(self.device) for a in args)
        return self.module.encode_text(*args).float().cpu().numpy()


def _subsample(frames: np.ndarray, limit: int | None) -> np.ndarray:
    if limit is None or len(frames) <= limit:
        return frames
    return frames[np.linspace(0, len(frames) - 1, limit).round().astype(int)]


def pad(groups: list[np.ndarray]) -> tuple[Tensor, Tensor]:
    """Variable-length [T_i, D] arrays -> frames [N, T_max, D] (zeros after the end) and mask [N, T_max]."""
    t = max(len(g) for g in groups)
    frames = torch.zeros(len(groups), t, groups[0].shape[-1])
    mask = torch.zeros(len(groups), t, dtype=torch.bool)
    for i, g in enumerate(groups):
        frames[i, : len(g)] = torch.from_numpy(np.asarray(g, np.float32))
        mask[i, : len(g)] = True
    return frames, mask


@lru_cache(maxsize=16)
def _cached_checkpoint(path: str, mtime_ns: int) -> Checkpoint:
    return load_checkpoint(path)


def cached_checkpoint(path: str | Path) -> Checkpoint:
    """load_checkpoint, kept per process while the file is unchanged."""
    resolved = Path(path).expanduser().resolve()
    return _cached_checkpoint(str(resolved), resolved.stat().st_mtime_ns if resolved.exists() else 0)


def pooler_for(module: str, checkpoint: str | None, encoder_name: str, dim: int) -> tuple[Pooler, str]:
    """The pooler ingest uses for features of `encoder_name`, and a one-line account of the choice.

    A learned module runs only with a checkpoint trained for this very frame encoder; otherwise the
    mean is used and the reason returned (never random weights).
    """
    if module == "mean":
        return Pooler(Mean(dim)), "mean"
    if module not in MODULES:
        raise ValueError(f"unknown temporal module {module!r} (known: {', '.join(MODULES)})")
    if not checkpoint:
        return Pooler(Mean(dim)), f"{module} has no checkpoint: mean pooling used"
    try:
        ckpt = cached_checkpoint(checkpoint)
    except (OSError, ValueError, RuntimeError) as exc:
        return Pooler(Mean(dim)), f"{module}: {exc}: mean pooling used"
    if ckpt.module.name != module:
        return Pooler(Mean(dim)), f"{checkpoint} holds {ckpt.module.name}, not {module}: mean pooling used"
    if ckpt.frame_encoder != encoder_name or ckpt.module.dim != dim:
        why = f"{checkpoint} was trained for {ckpt.frame_encoder} ({ckpt.module.dim}-d), not {encoder_name} ({dim}-d)"
        return Pooler(Mean(dim)), f"{why}: mean pooling used"
    return Pooler(ckpt.module, ckpt), f"{module}:{ckpt.id}"


def pooler_from_meta(meta: dict[str, Any], dim: int) -> Pooler:
    """The pooler that made an index row (its metadata), for encoding queries the same way.

    Raises ValueError when the recorded checkpoint is gone or is no longer the file that was used.
    """
    name = meta.get("temporal", "mean")
    if name == "mean":
        return Pooler(Mean(dim))
    path = meta.get("temporal_path")
    try:
        ckpt = cached_checkpoint(path)
    except (OSError, ValueError, RuntimeError) as exc:
        raise ValueError(f"index rows were made by {name} from {path}, which cannot be loaded: {exc}") from exc
    if ckpt.id != meta.get("temporal_id"):
        raise ValueError(f"{path} changed since the index was built (re-ingest to use the new checkpoint)")
    return Pooler(ckpt.module, ckpt)
