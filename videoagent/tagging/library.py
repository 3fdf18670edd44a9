"""Tag libraries: the vocabulary bulk tagging assigns from, read from CSV or YAML.

A library is a list of tags, each with a name, an optional description, synonyms and a parent:

    CSV   header `tag,description,synonyms,parent` (synonyms separated by `;`; other columns are kept
          as provenance and ignored by tagging)
    YAML  a list of mappings with the same keys (`synonyms` a list or a `;`-separated string), or a
          mapping `{tags: [...]}`
    TXT   one tag name per line

Its `version` is a hash of the content, so tag results can say which library made them and a re-run with
the same library can skip videos already tagged. The shipped default (`videoagent/data/tags.csv`) is built
by `tools/build_tag_library.py` from label sets that ship inside installed packages.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..errors import BadInput

COLUMNS = ("tag", "description", "synonyms", "parent")
DEFAULT_LIBRARY = "data/tags.csv"  # inside the videoagent package


@dataclass(frozen=True)
class Tag:
    name: str
    description: str = ""
    synonyms: tuple[str, ...] = ()
    parent: str = ""
    extra: tuple[tuple[str, str], ...] = field(default=(), compare=False)  # provenance columns, kept on write

    def terms(self) -> tuple[str, ...]:
        """Every surface form a text may name the tag by."""
        return (self.name, *self.synonyms)

    def text(self) -> str:
        """What the tag's sentence embedding is computed from: name, synonyms, description."""
        out = self.name
        if self.synonyms:
            out += f" ({', '.join(self.synonyms)})"
        if self.description:
            out += f": {self.description}"
        return out


@dataclass
class TagLibrary:
    tags: list[Tag]
    source: str = ""

    def __post_init__(self) -> None:
        seen: dict[str, int] = {}
        for i, tag in enumerate(self.tags):
            if not tag.name:
                raise BadInput(f"{self.source}: tag #{i + 1} has no name")
            if tag.name in seen:
                raise BadInput(f"{self.source}: tag {tag.name!r} appears twice")
            seen[tag.name] = i
        for tag in self.tags:
            if tag.parent and tag.parent not in seen:
                raise BadInput(f"{self.source}: parent {tag.parent!r} of tag {tag.name!r} is not in the library")
        self.position = seen

    def __len__(self) -> int:
        return len(self.tags)

    def __getitem__(self, name: str) -> Tag:
        return self.tags[self.position[name]]

    def __contains__(self, name: str) -> bool:
        return name in self.position

    @cached_property
    def version(self) -> str:
        """Content hash: the same tags, whatever file they came from, give the same version."""
        blob = json.dumps([[t.name, t.description, list(t.synonyms), t.parent] for t in self.tags])
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    @classmethod
    def load(cls, path: str | Path) -> TagLibrary:
        """Read a CSV, YAML or TXT library; any problem is a ValueError naming the file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise BadInput(f"{path}: no such tag library") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"{path}: cannot read tag library ({exc})") from None
        suffix = path.suffix.lower()
        if suffix == ".csv":
            rows = _csv_rows(text, path)
        elif suffix in (".yaml", ".yml"):
            rows = _yaml_rows(text, path)
        elif suffix == ".txt":
            rows = [{"tag": line} for line in text.splitlines() if line.strip() and not line.startswith("#")]
        else:
            raise BadInput(f"{path}: a tag library must be .csv, .yaml, .yml or .txt")
        tags = [_tag(row, path, i) for i, row in enumerate(rows)]
        if not tags:
            raise BadInput(f"{path}: the tag library is empty")
        return cls(tags, source=str(path))

    @classmethod
    def default(cls) -> TagLibrary:
        return _default()

    def write_csv(self, path: str | Path) -> None:
        extra_cols = sorted({k for t in self.tags for k, _ in t.extra})
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow([*COLUMNS, *extra_cols])
        for t in self.tags:
            extra = dict(t.extra)
            writer.writerow(
                [t.name, t.description, ";".join(t.synonyms), t.parent, *(extra.get(c, "") for c in extra_cols)]
            )
        Path(path).write_text(buf.getvalue(), encoding="utf-8")


@cache
def _default() -> TagLibrary:
    ref = resources.files("videoagent").joinpath(DEFAULT_LIBRARY)
    with resources.as_file(ref) as path:
        lib = TagLibrary.load(path)
    lib.source = "default"
    return lib


def clean(name: str) -> str:
    """Canonical form of a tag name or synonym: lower case, single spaces, no underscores."""
    return re.sub(r"\s+", " ", name.replace("_", " ")).strip().lower()


def split_synonyms(value: Any) -> list[str]:
    if value is None:
        return []
    items: Iterable[Any] = value.split(";") if isinstance(value, str) else value
    return [s for s in (clean(str(v)) for v in items) if s]


def _csv_rows(text: str, path: Path) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "tag" not in [f.strip() for f in reader.fieldnames]:
        raise BadInput(f"{path}: a CSV tag library needs a header with a `tag` column ({', '.join(COLUMNS)})")
    return [{(k or "").strip(): v for k, v in row.items()} for row in reader]


def _yaml_rows(text: str, path: Path) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BadInput(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if isinstance(data, dict):
        data = data.get("tags")
    if not isinstance(data, list):
        raise BadInput(f"{path}: expected a list of tags (or a mapping with a `tags:` list)")
    return [row if isinstance(row, dict) else {"tag": row} for row in data]


def _tag(row: dict[str, Any], path: Path, i: int) -> Tag:
    name = clean(str(row.get("tag") or ""))
    if not name:
        raise BadInput(f"{path}: tag #{i + 1} has no name")
    synonyms = tuple(s for s in dict.fromkeys(split_synonyms(row.get("synonyms"))) if s != name)
    extra = tuple((k, str(v)) for k, v in row.items() if k not in COLUMNS and k and v not in (None, ""))
    return Tag(
        name=name,
        description=str(row.get("description") or "").strip(),
        synonyms=synonyms,
        parent=clean(str(row.get("parent") or "")),
        extra=extra,
    )
