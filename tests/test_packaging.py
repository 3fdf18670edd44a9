"""The wheel is self-contained: it ships the profiles, pipelines and tag library, and the installed copy
(not the source tree) ingests a video from a folder outside the repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = (
    "videoagent/configs/default.yaml",
    "videoagent/pipelines/ingest.yaml",
    "videoagent/data/tags.csv",
    "videoagent/data/imagenet_kinds.json",
)


def _pip(*args: str, cwd: Path) -> None:
    # --no-index: nothing to fetch (--no-deps, build backend from this venv), so offline by construction.
    cmd = [sys.executable, "-m", "pip", *args, "--no-deps", "--no-index", "--disable-pip-version-check", "-q"]
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


def _build_wheel(tmp: Path) -> Path:
    """Build from a copy of the project: an in-place build would leave build/ and *.egg-info in the
    checkout, and a stale build/lib from an earlier layout would slip into the wheel."""
    src = tmp / "src"
    src.mkdir()
    for f in ROOT.iterdir():
        if f.is_file():  # pyproject.toml, README.md (the readme), and whatever else sits at the top
            shutil.copy2(f, src / f.name)
    shutil.copytree(ROOT / "videoagent", src / "videoagent", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _pip("wheel", "--no-build-isolation", "-w", str(tmp / "dist"), ".", cwd=src)
    (wheel,) = (tmp / "dist").glob("videoagent-*.whl")
    return wheel


def _run(*args: str, cwd: Path, env: dict[str, str]) -> dict:
    proc = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # raises if anything else shared stdout


@pytest.mark.slow
def test_installed_wheel_runs_outside_the_source_tree(tmp_path, media):
    wheel = _build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    assert set(SHIPPED) <= names, sorted(n for n in names if not n.endswith(".py"))

    site = tmp_path / "site"
    _pip("install", "--target", str(site), str(wheel), cwd=tmp_path)
    work = tmp_path / "work"  # not the repository: nothing resolves against the checkout
    work.mkdir()
    # The installed copy comes first on sys.path; the venv's editable finder only answers after it.
    env = {**os.environ, "PYTHONPATH": str(site)}

    probe = (
        "import json, videoagent, videoagent.config as c; "
        "print(json.dumps([videoagent.__file__, c.shipped_profiles()]))"
    )
    where, profiles = _run("-c", probe, cwd=work, env=env)
    assert Path(where).resolve().is_relative_to(site.resolve()), where
    assert "default" in profiles

    from videoagent.config import load_profile

    doc = _run("-m", "videoagent", "models", "--json", cwd=work, env=env)
    roles = {r["role"]: r for r in doc["roles"]}
    assert {"asr", "ocr", "text_encoder", "llm"} <= set(roles), sorted(roles)
    assert roles["asr"]["model"] == load_profile("default").asr.model  # read from the wheel's default.yaml

    video = media.path("carphone")  # 4 s, the shortest real clip
    doc = _run("-m", "videoagent", "ingest", str(video), "--index", str(tmp_path / "idx"), "--json", cwd=work, env=env)
    (result,) = doc["videos"]
    assert result["status"] == "done", result


def test_profiles_by_name_are_the_shipped_ones_and_by_path_the_users(tmp_path, monkeypatch):
    from videoagent.config import load_pipeline, load_profile, shipped_profiles
    from videoagent.errors import ConfigError

    monkeypatch.chdir(tmp_path)  # names never resolve against the working folder
    assert {"default", "hub", "gpu", "openai", "accurate"} <= set(shipped_profiles())
    with pytest.raises(ConfigError) as err:
        load_profile("nonesuch")
    message = str(err.value)
    assert "\n" not in message and "nonesuch" in message and all(n in message for n in shipped_profiles())

    base = tmp_path / "base.yml"
    base.write_text("extends: default\nocr: {max_side: 320}\n")  # `default`: the shipped profile
    mine = tmp_path / "mine.yaml"
    mine.write_text(f"name: mine\nextends: {base}\nasr: {{beam_size: 3}}\n")
    profile = load_profile(str(mine))
    assert (profile.name, profile.ocr.max_side, profile.asr.beam_size) == ("mine", 320, 3)
    assert profile.llm == load_profile("default").llm
    pipe = tmp_path / "pipe.yaml"
    pipe.write_text("scenes: {threshold: 30.0}\n")
    assert load_pipeline(pipe).scenes.threshold == 30.0 and load_pipeline().name == "ingest"
