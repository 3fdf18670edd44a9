"""Video-LLaMA's video Q-Former: frame features become a soft prompt from which a frozen LLM writes.

Frame features [T, D] (the profile's frame encoder), layer-normed, get a learned frame-position embedding; a BLIP-2
Q-Former (transformers' `Blip2QFormerModel`) lets a few learned queries cross-attend to them; a linear
layer projects the queries into the LLM's input-embedding space. Those vectors go before a short text
prompt, and the LLM continues with a caption.

Only the Q-Former side learns (`fit`, run by tools/train_qformer.py on (clip, caption) pairs): the frame
encoder and the LLM stay frozen. A checkpoint records both, so ingest uses it only with the same frame
encoder and loads the LLM it was trained against. Without a checkpoint there are no captions: nothing
here ships trained weights.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..config import LlmConfig
from .modules import checkpoint_id, pad, read_checkpoint, write_checkpoint

CHECKPOINT_FORMAT = "videoagent-qformer-1"
PROMPT = " A short description of this video clip:"


@dataclass(frozen=True)
class QFormerSettings:
    queries: int = 8  # soft-prompt length
    hidden: int = 256
    layers: int = 2
    heads: int = 4
    max_frames: int = 32


class VideoQFormer(nn.Module):
    """[B, T, D] frame features (+ [B, T] mask) -> [B, queries, llm_dim] soft prompt."""

    def __init__(self, frame_dim: int, llm_dim: int, settings: QFormerSettings = QFormerSettings()):
        from transformers import Blip2QFormerConfig, Blip2QFormerModel

        super().__init__()
        self.frame_dim, self.llm_dim, self.settings = frame_dim, llm_dim, settings
        self.frame_norm = nn.LayerNorm(frame_dim)  # frame features of any scale (CLIP or fingerprint)
        self.frame_position = nn.Embedding(settings.max_frames, frame_dim)
        nn.init.zeros_(self.frame_position.weight)  # start as the plain frame features
        config = Blip2QFormerConfig(
            hidden_size=settings.hidden,
            num_hidden_layers=settings.layers,
            num_attention_heads=settings.heads,
            intermediate_size=settings.hidden * 4,
            encoder_hidden_size=frame_dim,
            cross_attention_frequency=1,
        )
        self.qformer = Blip2QFormerModel(config)
        self.queries = nn.Parameter(torch.randn(1, settings.queries, settings.hidden) * config.initializer_range)
        self.project = nn.Linear(settings.hidden, llm_dim)

    def forward(self, frames: Tensor, mask: Tensor) -> Tensor:
        steps = min(frames.shape[1], self.settings.max_frames)
        frames, mask = frames[:, :steps], mask[:, :steps]
        frames = self.frame_norm(frames) + self.frame_position(torch.arange(steps, device=frames.device))
        out = self.qformer(
            query_embeds=self.queries.expand(frames.shape[0], -1, -1),
            encoder_hidden_states=frames,
            encoder_attention_mask=mask.long(),
        )
        return self.project(out.last_hidden_state)


class Captioner:
    """A VideoQFormer in front of a frozen causal LM (`llm`: a LocalChatModel)."""

    def __init__(self, qformer: VideoQFormer, llm: Any, prompt: str = PROMPT):
        self.qformer, self.llm, self.prompt = qformer, llm, prompt
        self.model, self.tokenizer = llm._model, llm._tokenizer
        for p in self.model.parameters():
            p.requires_grad_(False)

    def _inputs(self, frames: list[np.ndarray], captions: list[str] | None = None):
        """Soft prompt + prompt (+ caption tokens, for training): embeddings, attention mask, labels."""
        feats, mask = pad(frames)
        soft = self.qformer(feats, mask)
        embed = self.model.get_input_embeddings()
        prompt_ids = self.tokenizer(self.prompt, add_special_tokens=False, return_tensors="pt").input_ids[0]
        rows, labels = [], []
        for b in range(len(frames)):
            ids = prompt_ids
            target = torch.full_like(prompt_ids, -100)
            if captions is not None:
                text = " " + captions[b].strip() + (self.tokenizer.eos_token or "")
                cap = self.tokenizer(text, add_special_tokens=False, return_tensors="pt").input_ids[0]
                ids, target = torch.cat([prompt_ids, cap]), torch.cat([target, cap])
            rows.append((torch.cat([soft[b], embed(ids).to(soft.dtype)]), target))
        length = max(r[0].shape[0] for r in rows)
        # Left padding, so generation continues right after each prompt.
        inputs = torch.zeros(len(rows), length, soft.shape[-1], dtype=soft.dtype)
        attention = torch.zeros(len(rows), length, dtype=torch.long)
        for b, (emb, target) in enumerate(rows):
            inputs[b, length - emb.shape[0] :] = emb
            attention[b, length - emb.shape[0] :] = 1
            full = torch.full((emb.shape[0],), -100)
            full[emb.shape[0] - target.shape[0] :] = target
            labels.append(torch.cat([torch.full((length - emb.shape[0],), -100), full]))
        return inputs, attention, torch.stack(labels)

    def loss(self, frames: list[np.ndarray], captions: list[str]) -> Tensor:
        inputs, attention, labels = self._inputs(frames, captions)
        # Positions count from each row's first real token, as generate() counts them under left padding.
        positions = (attention.cumsum(-1) - 1).clamp(min=0)
        return self.model(inputs_embeds=inputs, attention_mask=attention, position_ids=positions, labels=labels).loss

    @torch.no_grad()
    def caption(self, frames: list[np.ndarray], max_new_tokens: int = 24) -> list[str]:
        self.qformer.eval()
        inputs, attention, _ = self._inputs(frames)
        out = self.model.generate(
            inputs_embeds=inputs,
            attention_mask=attention,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=self.tokenizer.pad_token_id,
        )
        texts = self.tokenizer.batch_decode(out, skip_special_tokens=True)
        return [t.strip().split("\n")[0].strip() for t in texts]


# ---- checkpoints -----------------------------------------------------------------------------
def save_checkpoint(qformer: VideoQFormer, path: str | Path, frame_encoder: str, llm: LlmConfig, **info: Any) -> str:
    return write_checkpoint(
        {
            "format": CHECKPOINT_FORMAT,
            "frame_dim": qformer.frame_dim,
            "llm_dim": qformer.llm_dim,
            "settings": asdict(qformer.settings),
            "frame_encoder": frame_encoder,
            "llm": {"backend": llm.backend, "model": llm.model},
            "info": info,
            "state_dict": {k: v.detach().cpu() for k, v in qformer.state_dict().items()},
        },
        path,
    )


@dataclass(frozen=True)
class Checkpoint:
    qformer: VideoQFormer
    frame_encoder: str
    llm: LlmConfig
    id: str
    info: dict[str, Any]


def load_checkpoint(path: str | Path) -> Checkpoint:
    path, data = read_checkpoint(path, CHECKPOINT_FORMAT, "Q-Former")
    qformer = VideoQFormer(int(data["frame_dim"]), int(data["llm_dim"]), QFormerSettings(**data["settings"]))
    qformer.load_state_dict(data["state_dict"])
    llm = LlmConfig(**data["llm"])
    return Checkpoint(qformer.eval(), data["frame_encoder"], llm, checkpoint_id(path), data.get("info", {}))


def load_captioner(path: str | Path, frame_encoder: str) -> Captioner:
    """The checkpoint's Q-Former and the LLM it was trained against; refuses another frame encoder."""
    from ..qa.llm import load_local

    ckpt = load_checkpoint(path)
    if ckpt.frame_encoder != frame_encoder:
        raise ValueError(f"{path}: trained on {ckpt.frame_encoder} features, not {frame_encoder}")
    return Captioner(ckpt.qformer, load_local(ckpt.llm))
