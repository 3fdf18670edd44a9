"""The --json command-line contract: one JSON document on stdout, logs on stderr, documented exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from videoagent.cli import app


def invoke(*args):
    result = CliRunner().invoke(app, list(map(str, args)))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.slow
def test_show_json_contract(ingested, media):
    store, results = ingested
    vid = results["narrated"].video_id
    code, stdout, _ = invoke("show", vid[:8], "--index", store.root, "--json")
    assert code == 0
    doc = json.loads(stdout)
    assert doc["video_id"] == vid and doc["duration_s"] == 20.0 and isinstance(doc["tracklets"], list)
    assert len(doc["segments"]) == len(media["narrated"]["scenes"])
    for seg in doc["segments"]:
        assert set(seg) >= {"start_s", "end_s", "transcript", "ocr", "caption", "tags"}
    assert "tabby cat" in doc["segments"][1]["transcript"].lower()


@pytest.mark.slow
def test_show_unknown_video_is_bad_input(ingested):
    store, _ = ingested
    code, stdout, stderr = invoke("show", "ffffffffffffffff", "--index", store.root, "--json")
    assert code == 2 and stdout == "" and "ffffffffffffffff" in stderr


def test_models_reports_every_role():
    code, stdout, _ = invoke("models", "--json")
    assert code == 0
    roles = {r["role"]: r for r in json.loads(stdout)["roles"]}
    for role in ("asr", "ocr", "text_encoder", "llm", "lexicon"):
        assert roles[role]["present"] and roles[role]["path"], role
    # No CLIP ships offline: reported missing, with the honest fallback named.
    assert roles["frame_encoder"]["present"] is False
    assert roles["frame_encoder_fallback"]["model"].startswith("fingerprint")


@pytest.mark.slow
def test_ingest_subprocess_stdout_is_exactly_one_json_document(tmp_path, media):
    proc = subprocess.run(
        [sys.executable, "-m", "videoagent", "ingest", str(media.path("carphone")), "--index", str(tmp_path), "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # raises if anything else shared stdout
    assert doc["videos"][0]["status"] == "done"


def test_read_only_commands_exit_early_with_their_output_whole(tmp_path):
    """`list`, `show` and `ask` end the process straight after flushing (cli.main): the JSON still arrives
    whole through a pipe, and an error still exits 2 with its one line."""

    def run(*args):
        cmd = [sys.executable, "-m", "videoagent", *args, "--index", str(tmp_path)]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    assert run("init").returncode == 0
    listed = run("list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == {"videos": []}
    missing = run("show", "nosuch", "--json")
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr.strip().splitlines()[-1].startswith("error: nosuch: no such video")


@pytest.mark.slow
def test_export_writes_captions_and_refuses_an_unknown_format(ingested, tmp_path):
    store, results = ingested
    vid = results["narrated"].video_id
    code, stdout, _ = invoke("export", vid[:8], "--format", "srt", "--index", store.root)
    assert code == 0 and stdout.startswith("1\n00:00:00,000 --> ") and "tabby cat" in stdout.lower()
    code, _, _ = invoke("export", vid, "--format", "vtt", "--out", tmp_path / "v.vtt", "--index", store.root)
    assert code == 0 and (tmp_path / "v.vtt").read_text().startswith("WEBVTT\n")
    code, _, stderr = invoke("export", vid, "--format", "doc", "--index", store.root)
    assert code == 2 and "format doc: expected one of srt, vtt, json" in stderr
