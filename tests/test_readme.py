"""The README's Python API example runs as written, against the real demo video and the bundled models."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.slow
def test_python_api_example_runs(tmp_path, media):
    block = re.search(r"## Python API.*?```python\n(.*?)```", README.read_text(), re.S)
    assert block, "README has no Python API example"
    (tmp_path / ".fixtures").symlink_to(media.root)  # the example's paths are relative to a checkout
    out = subprocess.run([sys.executable, "-c", block.group(1)], cwd=tmp_path, capture_output=True, text=True,
                         timeout=600)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    first, second = out.stdout.strip().splitlines()[:2]
    assert "CAT CAFE OPEN" in first.upper() and "(4." in first  # the cat scene, 4 s in, is cited
    assert second.strip()
