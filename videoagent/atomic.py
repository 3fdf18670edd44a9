"""Files whole or not at all: atomic writes (a file or a folder appears complete under its name, or not at
all), and the sha256 that tells a file is the one expected (weights) or the same as another (video ids).

Both build under a temporary sibling (same filesystem, so the final rename is atomic) and rename it
into place; a process killed mid-write leaves the old file, or nothing, never a torn one. What the
temporary names look like: `.NAME.PID-XXXXXXXX.tmp` (files) and `.NAME.PID-XXXXXXXX.partial` (folders).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def atomic_write(path: str | Path, write: Callable[[BinaryIO], object]) -> Path:
    """Call `write(f)` on a temporary sibling of `path` opened for binary writing, fsync it and rename it
    onto `path` (replacing what was there). If `write` raises, the temporary file is removed and `path`
    is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(path, ".tmp")
    # os.open, not mkstemp: the file gets the umask's permissions, as a plain open() would give it.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_folder(target: str | Path, build: Callable[[Path], object]) -> Path:
    """`target`, built once: `build(folder)` fills an empty temporary sibling, which is then renamed to
    `target`. A folder already at `target` is taken as complete (only a finished build is ever renamed
    there) and returned without calling `build`; so is one that another process renamed into place
    while this one was building: its copy is as good as ours. The temporary folder never outlives the
    call."""
    target = Path(target)
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(target, ".partial")
    tmp.mkdir()  # not mkdtemp: that makes it private (0700), and the renamed cache folder with it
    try:
        build(tmp)
        try:
            tmp.rename(target)
        except OSError:  # another process finished first (a non-empty folder is never replaced)
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _sibling(path: Path, suffix: str) -> Path:
    """A fresh hidden name next to `path` (same folder, so the rename is atomic), unique per call."""
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}{suffix}")


def file_sha256(path: str | Path) -> str:
    """The hex sha256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
