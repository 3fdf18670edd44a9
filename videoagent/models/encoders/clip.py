"""CLIP image and text towers through transformers (`CLIPModel` from a hub id or a local folder)."""

from __future__ import annotations

import numpy as np
import torch

from . import normalize


class ClipEncoder:
    learned = True

    def __init__(self, path: str, name: str, device: str = "cpu", batch_size: int = 16):
        from transformers import CLIPModel, CLIPProcessor

        self.name = name
        self.device = device
        self.batch_size = batch_size
        dtype = torch.float16 if device == "cuda" else torch.float32
        self.model = CLIPModel.from_pretrained(path, dtype=dtype).to(device).eval()
        self.processor = CLIPProcessor.from_pretrained(path)
        self.dim = int(self.model.config.projection_dim)

    @torch.inference_mode()
    def encode_images(self, frames: np.ndarray) -> np.ndarray:
        out = []
        for i in range(0, len(frames), self.batch_size):
            batch = self.processor(images=list(frames[i : i + self.batch_size]), return_tensors="pt")
            pixels = batch["pixel_values"].to(self.device, self.model.dtype)
            out.append(_features(self.model.get_image_features(pixel_values=pixels)))
        return normalize(np.concatenate(out)) if out else np.zeros((0, self.dim), np.float32)

    @torch.inference_mode()
    def encode_text(self, texts: list[str]) -> np.ndarray:
        batch = self.processor(text=texts, return_tensors="pt", padding=True, truncation=True).to(self.device)
        return normalize(_features(self.model.get_text_features(**batch)))

    @torch.inference_mode()
    def encode_text_tokens(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sentence vectors [N,dim] (unit length), projected token features [N,L,dim], and the token
        mask [N,L] (padding and the start token off): what token-level modules (temporal TAB) read."""
        batch = self.processor(text=texts, return_tensors="pt", padding=True, truncation=True).to(self.device)
        out = self.model.get_text_features(**batch)
        tokens = self.model.text_projection(out.last_hidden_state).float().cpu().numpy()
        mask = batch["attention_mask"].bool().cpu().numpy()
        mask[:, 0] = False
        return normalize(_features(out)), tokens, mask


def _features(out) -> np.ndarray:
    # transformers 5 may return a model output object instead of a bare tensor.
    tensor = out if isinstance(out, torch.Tensor) else out.pooler_output
    return tensor.float().cpu().numpy()
