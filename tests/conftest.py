"""Shared test fixtures: real media built by tools/make_fixtures.py, and one ingested index of them.

`make test` builds the media first; run `make fixtures` before calling pytest by hand.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

# Offline by construction, before anything imports transformers/chromadb/ultralytics.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(os.environ.get("VIDEOAGENT_FIXTURES") or ROOT / ".fixtures")


class Media:
    """Fixture files by manifest name."""

    def __init__(self, root: Path):
        manifest = root / "manifest.json"
        if not manifest.exists():
            pytest.fail(f"{manifest} missing: run `make fixtures` first", pytrace=False)
        self.root = root
        self.entries: dict[str, dict] = json.loads(manifest.read_text())["fixtures"]

    def __getitem__(self, name: str) -> dict:
        if name not in self.entries:
            pytest.skip(f"fixture {name!r} was not built (its source package was unavailable)")
        return self.entries[name]

    def path(self, name: str) -> Path:
        return self.root / self[name]["path"]


@pytest.fixture(scope="session")
def media() -> Media:
    return Media(FIXTURES)


@pytest.fixture(scope="session")
def profile():
    from videoagent.config import load_profile

    return load_profile("default")


@pytest.fixture(scope="session")
def pipeline():
    from videoagent.config import load_pipeline

    return load_pipeline()


@pytest.fixture(scope="session")
def ingested(tmp_path_factory, media, profile, pipeline):
    """One index holding the narrated fixture and the real speech clip, ingested with the default profile."""
    from videoagent.orchestrator import Ingestor
    from videoagent.store import Store

    store = Store(tmp_path_factory.mktemp("index"))
    ingestor = Ingestor(store, profile, pipeline)
    results = {name: ingestor.ingest_one(media.path(name)) for name in ("narrated", "speech")}
    for name, result in results.items():
        assert result.status == "done", (name, result.error)
    return store, results
