"""Per-video, per-stage artifacts: `<index>/artifacts/<video_id>/<stage>.json` (+ `.npz` for arrays).

An artifact is reused only when its recorded config hash matches the stage's current one. Files are
written to a temporary name and renamed, so a process killed mid-write leaves either the old
artifact or none, never a torn one.

Arrays are read one stage at a time (`_NPZ_READ`): numpy parses each .npz member's header with
`ast.literal_eval`, and CPython 3.11 before 3.11.8 keeps the AST constructor's recursion depth per interpreter,
not per thread (python/cpython#106905). Two stage lanes restoring their artifacts at once failed with
"SystemError: AST constructor recursion depth mismatch" (a CI run's tracks artifact, so its tracklets
went missing).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_write

_NPZ_READ = threading.Lock()


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
                with _NPZ_READ, np.load(self.dir / f"{stage}.npz") as npz:
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
