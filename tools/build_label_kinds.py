#!/usr/bin/env python3
"""Build videoagent/data/imagenet_kinds.json: for each ImageNet-1k class, the everyday kinds it is a kind of.

An ImageNet class is a WordNet noun synset (its wnid, from the `map:` of ultralytics' ImageNet.yaml). Its
kinds are the synsets above it (every hypernym path), named by their first lemma, kept when people use
that word (SemCor count >= MIN_COUNT) and it is not one of WordNet's abstract upper nodes (STOP). So
"Samoyed" is a kind of spitz, dog, canine, carnivore, mammal, animal; "sports car" of car, motor vehicle,
vehicle. The frames stage pools the classifier's probabilities over these kinds (models/encoders/
imagenet.py): a frame split between three dog breeds is confidently a dog.

Reads WordNet through videoagent's lexicon (Debian's wordnet-base). Run once when the rules change:

    .venv/bin/python tools/build_label_kinds.py
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from videoagent.models.encoders.imagenet import imagenet_categories  # noqa: E402
from videoagent.qa import lexicon  # noqa: E402

OUT = ROOT / "videoagent" / "data" / "imagenet_kinds.json"
MIN_COUNT = 1
STOP = {
    "entity", "physical entity", "abstraction", "object", "whole", "living thing", "organism", "being",
    "artifact", "instrumentality", "relation", "part", "substance", "matter", "thing", "unit", "group",
    "attribute", "state", "event", "act", "psychological feature", "measure", "causal agent", "cause",
    "system", "device", "instrument", "covering", "structure", "commodity", "article", "equipment",
    "material", "formation", "body", "form", "shape", "line", "way", "point", "surface", "area", "region",
    "location", "top", "side", "end", "component", "implement", "container", "natural object",
    "conveyance", "geological formation", "fluid", "liquid", "communication system", "protective covering",
    "explorer", "self-propelled vehicle", "wheeled vehicle", "chordate", "vertebrate", "placental",
    "craft", "natural elevation", "furnishing", "consumer goods", "creation", "decoration", "representation",
}  # fmt: skip


def kinds_of(synset, wn) -> list[str]:
    names: list[str] = []
    for ancestor in synset.closure(lambda s: s.hypernyms() + s.instance_hypernyms()):
        lemma = ancestor.lemmas()[0]
        name = lemma.name().replace("_", " ").lower()
        used = sum(lem.count() for lem in ancestor.lemmas())
        if name in STOP or used < MIN_COUNT or name in names:
            continue
        names.append(name)
    return names


def main() -> None:
    import ultralytics

    lx = lexicon.load()
    if lx is None:
        raise SystemExit("WordNet is not installed (apt-get install wordnet-base)")
    wn = lx._wn
    datasets = Path(os.path.dirname(ultralytics.__file__)) / "cfg" / "datasets" / "ImageNet.yaml"
    wnids = list(yaml.safe_load(datasets.read_text())["map"])
    names = imagenet_categories()
    assert len(wnids) == len(names) == 1000
    table = {}
    for wnid, name in zip(wnids, names, strict=True):
        synset = wn.synset_from_pos_and_offset("n", int(wnid[1:]))
        table[name] = kinds_of(synset, wn)
    doc = {"source": "WordNet 3.0 hypernyms of the ImageNet-1k synsets (tools/build_label_kinds.py)", "kinds": table}
    OUT.write_text(json.dumps(doc, indent=0, sort_keys=False) + "\n")
    print(f"{OUT}: {len(table)} classes, {len({k for v in table.values() for k in v})} kinds")


if __name__ == "__main__":
    main()
