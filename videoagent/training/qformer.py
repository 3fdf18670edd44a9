"""Training the video Q-Former (temporal/qformer.py): the fit loop, the LLM frozen."""

from __future__ import annotations

import math

import numpy as np
import torch

from ..temporal.qformer import Captioner


def fit(
    captioner: Captioner,
    frames: list[np.ndarray],
    captions: list[str],
    epochs: int = 20,
    batch: int = 4,
    lr: float = 5e-4,
    seed: int = 0,
) -> list[float]:
    """Train the Q-Former side on (clip frames, caption) pairs with the LLM's next-token loss; the
    mean loss of each epoch."""
    if len(frames) != len(captions) or not frames:
        raise ValueError("need one caption per clip, and at least one clip")
    torch.manual_seed(seed)
    opt = torch.optim.AdamW(captioner.qformer.parameters(), lr=lr, weight_decay=0.01)
    order = np.random.default_rng(seed)
    losses = []
    captioner.qformer.train()
    for _ in range(epochs):
        idx = order.permutation(len(frames))
        total = 0.0
        for start in range(0, len(idx), batch):
            pick = idx[start : start + batch]
            loss = captioner.loss([frames[i] for i in pick], [captions[i] for i in pick])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(pick)
        losses.append(total / len(idx))
        if not math.isfinite(losses[-1]):
            raise FloatingPointError("training diverged (loss is not finite): lower the learning rate")
    captioner.qformer.eval()
    return losses
