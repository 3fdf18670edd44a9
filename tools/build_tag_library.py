"""Build the shipped default tag library (videoagent/data/tags.csv) offline, from label sets inside installed packages.

Sources (all read from the local venv; nothing is downloaded):
  ultralytics  cfg/datasets/coco.yaml           COCO, 80 object classes
               cfg/datasets/open-images-v7.yaml Open Images V7, 601 boxable classes
               cfg/datasets/Objects365.yaml     Objects365, 365 classes (`a/b` = synonyms)
               cfg/datasets/lvis.yaml           LVIS v1, 1203 classes (`a/b/c` = synonyms)
               cfg/datasets/ImageNet.yaml       ImageNet-1k, 1000 classes; its `map:` (WordNet id -> name)
                                                spells some classes differently: kept as synonyms
               cfg/datasets/ade20k.yaml         ADE20K, 150 scene/stuff classes (sky, road, wall ...)
  torchvision  Kinetics-400 action names in the video classifiers' weight metadata (no weights needed)
  wordnet      videoagent/data/settings.yaml: scene, setting, time-of-day and attribute tags (night, city,
               underwater, beach, indoor, crowd, ...), each described by its WordNet 3.0 sense (gloss and
               lemmas as description and synonyms; Debian's wordnet-base, read through videoagent's lexicon)

Merging: names are lower-cased and `_` becomes a space; an entry whose name is already a tag name or synonym
is merged into that tag (its synonyms and sources added); otherwise it becomes a new tag.

Descriptions are left empty except for the WordNet tags: none of the label sets carries one. Parents: none of
these YAMLs carries a hierarchy, so the only parents set are the well-known contiguous ImageNet-1k class ranges
below (the dog breeds, the domestic cats, ...), checked by eye against the names; every other tag's parent is
empty.

    .venv/bin/python tools/build_tag_library.py [--out videoagent/data/tags.csv]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from videoagent.tagging.library import Tag, TagLibrary, clean  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "videoagent" / "data" / "tags.csv"

# ImageNet-1k index ranges (inclusive) whose classes all belong to one parent tag (WordNet order).
IMAGENET_PARENTS: list[tuple[int, int, str]] = [
    (0, 1, "fish"),  # tench, goldfish
    (2, 4, "shark"),
    (7, 24, "bird"),
    (52, 68, "snake"),
    (80, 100, "bird"),
    (127, 146, "bird"),
    (151, 268, "dog"),
    (281, 285, "cat"),
    (300, 320, "insect"),
    (321, 326, "butterfly"),
]


def _datasets_dir() -> Path:
    spec = importlib.util.find_spec("ultralytics")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("ultralytics is not installed: its dataset YAMLs are the label sets")
    return Path(next(iter(spec.submodule_search_locations))) / "cfg" / "datasets"


def _names(file: str) -> dict[int, str]:
    return yaml.safe_load((_datasets_dir() / file).read_text())["names"]


def _slashed(names: dict[int, str]) -> list[list[str]]:
    """`a/b/c` -> [a, b, c]: the first is the name, the rest synonyms.

    LVIS's `bus_(vehicle)` disambiguators arrive flattened as `bus vehicle`: a term that is another term of
    the same class plus more words is that disambiguator, not a synonym, and is dropped. Objects365's
    catch-all classes (`Other Shoes`) name no one thing and are left out.
    """
    out = []
    for name in names.values():
        terms = [clean(p) for p in name.split("/") if p.strip()]
        terms = [t for t in terms if not any(t.startswith(o + " ") for o in terms if o != t)]
        if terms and not terms[0].startswith("other "):
            out.append(terms)
    return out


def _imagenet() -> list[list[str]]:
    data = yaml.safe_load((_datasets_dir() / "ImageNet.yaml").read_text())
    wnid_names = list(data["map"].values())  # same order as names: WordNet id order
    return [list(dict.fromkeys([clean(n), clean(m)])) for n, m in zip(data["names"].values(), wnid_names, strict=True)]


def _kinetics() -> list[list[str]]:
    from torchvision.models.video import R3D_18_Weights

    return [[clean(n)] for n in R3D_18_Weights.KINETICS400_V1.meta["categories"]]


SOURCES = [
    ("coco", lambda: [[clean(n)] for n in _names("coco.yaml").values()]),
    ("openimages-v7", lambda: [[clean(n)] for n in _names("open-images-v7.yaml").values()]),
    ("objects365", lambda: _slashed(_names("Objects365.yaml"))),
    ("lvis", lambda: _slashed(_names("lvis.yaml"))),
    ("imagenet-1k", _imagenet),
    ("ade20k", lambda: [[clean(n)] for n in _names("ade20k.yaml").values()]),
    ("kinetics-400", _kinetics),
    ("wordnet", lambda: [[name, *lemmas] for name, (_, lemmas) in _settings().items()]),
]
SETTINGS = Path(__file__).resolve().parent.parent / "videoagent" / "data" / "settings.yaml"


def _settings() -> dict[str, tuple[str, list[str]]]:
    """Each settings tag -> (its WordNet gloss, its sense's other lemmas)."""
    from videoagent.qa import lexicon

    lex = lexicon.load()
    if lex is None:
        raise SystemExit("WordNet is not installed (apt-get install wordnet-base)")
    out = {}
    for name, spec in yaml.safe_load(SETTINGS.read_text()).items():
        sense = lex._wn.synset(spec["wordnet"])
        lemmas = [clean(lem.name()) for lem in sense.lemmas() if clean(lem.name()) != name]
        out[name] = (sense.definition(), lemmas)
    return out


def build() -> TagLibrary:
    names: list[str] = []
    synonyms: dict[str, list[str]] = {}
    sources: dict[str, list[str]] = {}
    owner: dict[str, str] = {}  # term -> tag name it belongs to
    parents: dict[str, str] = {}
    for source, read in SOURCES:
        for i, terms in enumerate(read()):
            name = owner.get(terms[0], terms[0])
            if name not in synonyms:
                names.append(name)
                synonyms[name], sources[name] = [], []
                owner.setdefault(name, name)
            for term in terms:
                if term != name and term not in synonyms[name]:
                    synonyms[name].append(term)
                    owner.setdefault(term, name)
            if source not in sources[name]:
                sources[name].append(source)
            if source == "imagenet-1k":
                parent = next((p for lo, hi, p in IMAGENET_PARENTS if lo <= i <= hi), "")
                if parent and parent != name:
                    parents.setdefault(name, parent)
    glosses = {name: gloss for name, (gloss, _) in _settings().items()}
    tags = [
        Tag(
            name=n,
            description=glosses.get(n, ""),
            synonyms=tuple(synonyms[n]),
            parent=parents.get(n, ""),
            extra=(("sources", ";".join(sources[n])),),
        )
        for n in names
    ]
    return TagLibrary(tags, source="build_tag_library")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    lib = build()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    lib.write_csv(args.out)
    by_source: dict[str, int] = {}
    for tag in lib.tags:
        for s in dict(tag.extra)["sources"].split(";"):
            by_source[s] = by_source.get(s, 0) + 1
    with_parent = sum(bool(t.parent) for t in lib.tags)
    print(f"{args.out}: {len(lib)} tags (version {lib.version}); {with_parent} with a parent; per source: {by_source}")


if __name__ == "__main__":
    main()
