"""Sentence embeddings through sentence-transformers (bundled all-MiniLM-L6-v2 by default)."""

from __future__ import annotations

import numpy as np


class SentenceEncoder:
    def __init__(self, path: str, name: str, device: str = "cpu"):
        from sentence_transformers import SentenceTransformer

        self.name = name
        self.model = SentenceTransformer(path, device=device, local_files_only=True)
        self.dim = int(self.model.get_embedding_dimension())

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self.model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(out, dtype=np.float32)
