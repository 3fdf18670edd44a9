"""Per-video, per-stage artifacts: `<index>/artifacts/<video_id>/<stage>.json` (+ `.npz` for arrays).

An artifact is reused only when its recorded config hash matches the stage's current one. Files are
written to a temporary name and renamed, so a process killed mid-write leaves either the old
artifact or none, never a torn one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_write


class Artifacts:
    def __init__(self, index_root: str | Path, video_id: str):
        self.dir = Path(index_root) / "artifacts" / video_id

    def load(self, stage: str, config_hash: str) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
        """(json data, arrays) of a finished stage with this config hash, else None."""
        meta_path = self.dir / f"{stage}.json"
        try:
            meta = json.loads(meta_path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        if meta.get("config_hash") != config_hash:
            return None
        arrays: dict[str, np.ndarray] = {}
        if meta.get("has_arrays"):
            try:
                with np.load(self.dir / f"{stage}.npz") as npz:
                    arrays = {k: npz[k] for k in npz.files}
            except (FileNotFoundError, ValueError, OSError):
                return None
        return meta["data"], arrays

    def save(
        self, stage: str, config_hash: str, data: dict[str, Any], arrays: dict[str, np.ndarray] | None = None
    ) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        if arrays:
            # Arrays first: the json is the commit record that makes the stage count as done.
            atomic_write(self.dir / f"{stage}.npz", lambda f: np.savez(f, **arrays))
        meta = {"config_hash": config_hash, "has_arrays": bool(arrays), "data": data}
        atomic_write(self.dir / f"{stage}.json", lambda f: f.write(json.dumps(meta).encode()))
