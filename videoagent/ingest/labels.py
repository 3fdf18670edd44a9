"""The `labels` stage: what the image classifier sees in each keyframe, in the shared keyframe pass.

Per keyframe the profile's image classifier (EfficientNet-Lite0, ImageNet-1k; not CLIP) gives class
probabilities and a 1280-d image embedding (models/encoders/imagenet.py `look`). Per segment,
`segment_labels` averages its keyframes' probabilities and reads them as classes and everyday kinds
("Samoyed", "dog", "animal"; summed over the classes under a kind), keeping the best few, and adds
`dark` when its frames are (a brightness statistic, named as one: `pixels:darkness`). Those labels
are what a segment is `seen` to show, with the objects the detector found in it (`segment_objects`:
"person" x4): stored in the catalog, embedded as the text channel `labels` (ingest/text.py; its `why`
names the model, `imagenet-labels:<model>`), read by tagging and QA. The embeddings, mean-pooled per
segment and per video, make the `visual:imagenet-<model>` collections for image and video queries.
Nothing here compares an image with text: the labels are words, matched to words.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np
import yaml

from ..models.encoders.imagenet import kind_scores, kinds_above, trim_borders
from ..models.weights import MissingWeights
from .stage import Context, Feeder, FrameStage, Outcome, Output, keyframe_times


class VisualLabels(FrameStage):
    name = "labels"
    version = "2"  # of what the artifact holds (2: darkness): a new one re-runs the stage

    def settings(self, profile, pipeline):
        return (pipeline.keyframes, profile.image_classifier, pipeline.labels, self.version)

    def start(self, ctx: Context) -> Feeder | Outcome:
        classifier = ctx.models.image_classifier()
        if isinstance(classifier, MissingWeights):
            return Outcome("skipped", str(classifier))
        return _Looking(classifier)

    def restore(self, data, arrays, ctx):
        return {
            "model": data["model"],
            "classes": data["classes"],
            "probs": arrays["probs"].astype(np.float32),
            "embeddings": arrays["embeddings"].astype(np.float32),
            "darkness": arrays["darkness"].astype(np.float32),
        }


DARK = (0.3, 0.2)  # a frame's median luma at which it starts to read as dark, and the range to fully dark


def darkness(frame: np.ndarray) -> float:
    """How dark a picture is, 0 (median luma >= 0.3) to 1 (<= 0.1), letterbox bars left out: a pixel
    statistic, not a model (the `dark` label, which the `night` tag reads)."""
    picture = trim_borders(np.asarray(frame))
    luma = (picture[..., :3].astype(np.float32) @ np.asarray([0.299, 0.587, 0.114], np.float32)) / 255.0
    return float(np.clip((DARK[0] - np.median(luma)) / DARK[1], 0.0, 1.0))


class _Looking(Feeder):
    def __init__(self, classifier):
        self.classifier = classifier
        self.embeddings: list[np.ndarray] = []
        self.probs: list[np.ndarray] = []
        self.darkness: list[float] = []

    def feed(self, frames: np.ndarray) -> None:
        emb, probs = self.classifier.look(frames)
        self.embeddings.append(emb)
        self.probs.append(probs)
        self.darkness += [darkness(f) for f in frames]

    def finish(self) -> Output:
        c = self.classifier
        emb = np.concatenate(self.embeddings) if self.embeddings else np.zeros((0, c.dim), np.float32)
        probs = np.concatenate(self.probs) if self.probs else np.zeros((0, len(c.labels)), np.float32)
        dark = np.asarray(self.darkness, np.float32)
        # Kept as float16; the value is what a restore reads back, so a resumed ingest equals a fresh one.
        arrays = {"probs": probs.astype(np.float16), "embeddings": emb.astype(np.float16), "darkness": dark}
        value = {"model": c.name, "classes": c.labels, "darkness": dark}
        value.update({name: arrays[name].astype(np.float32) for name in ("probs", "embeddings")})
        data = {"model": c.name, "classes": c.labels}
        return Output(value, Outcome("done", f"{len(probs)} keyframes ({c.name})"), (data, arrays))


def channel_name(model: str) -> str:
    """The search channel the labels make: `imagenet-labels:efficientnet-lite0` for `imagenet:efficientnet-lite0`."""
    kind, _, name = model.partition(":")
    return f"{kind}-labels:{name}"


def segment_labels(ctx: Context) -> list[list[dict]]:
    """Per segment: [{"label", "score", "t", "source"}] best first, `t` the keyframe where the label scores
    highest."""
    labels = ctx["labels"]
    times = keyframe_times(ctx)
    if labels is None:
        return [[] for _ in times]
    cfg = ctx.pipeline.labels
    out, k = [], 0
    for seg_times in times:
        probs, dark = labels["probs"][k : k + len(seg_times)], labels["darkness"][k : k + len(seg_times)]
        k += len(seg_times)
        source = channel_name(labels["model"])
        rows = pooled_labels(probs, seg_times, labels["classes"], cfg.top_k, cfg.min_score, source)
        if len(dark) and float(dark.mean()) >= cfg.min_score:
            at = seg_times[int(np.argmax(dark))]
            rows.append({"label": "dark", "score": round(float(dark.mean()), 3), "t": at, "source": "pixels:darkness"})
        out.append(rows)
    return out


def pooled_labels(
    probs: np.ndarray, times: list[float], classes: list[str], top_k: int, min_score: float, source: str = ""
) -> list[dict]:
    """The segment's labels from its keyframes' probabilities (mean over keyframes, then classes and kinds)."""
    if not len(probs):
        return []
    scores = kind_scores(probs.mean(axis=0), classes)
    best = sorted(((s, name) for name, s in scores.items() if s >= min_score), key=lambda x: (-x[0], x[1]))[:top_k]
    per_frame = [kind_scores(p, classes) for p in probs] if len(probs) > 1 else None
    rows = []
    for score, name in best:
        at = times[int(np.argmax([f.get(name, 0.0) for f in per_frame]))] if per_frame else times[0]
        rows.append({"label": name, "score": round(float(score), 3), "t": round(float(at), 2), "source": source})
    return mark_general(rows)


GENERAL_RATIO = 0.8  # a label is general when a label under it scores at least this share of its score


def mark_general(rows: list[dict]) -> list[dict]:
    """Flag the labels a more specific one in the same segment stands for ("animal", "mammal" beside "dog"
    0.9; not "dog" beside "Samoyed" 0.66): search and QA still read them, tagging ranks them lower."""
    above = kinds_above()
    for row in rows:
        row["general"] = any(
            row["label"] in above.get(other["label"], ()) and other["score"] >= GENERAL_RATIO * row["score"]
            for other in rows
        )
    return rows


def segment_objects(seen: list, segments) -> list[list[dict]]:
    """Per segment: each category the detector saw confidently in its sampled frames (the tracks stage's
    [time, category, score, boxes, detector] rows), {"label", "score" (best), "t" (that frame), "count" (most
    boxes in one frame), "source" (the detector)}, most boxes first."""
    out = []
    for seg in segments:
        found: dict[str, dict] = {}
        for t, category, score, boxes, detector in seen:
            if not seg.start_s <= t < seg.end_s:
                continue
            empty = {"label": category, "score": 0.0, "t": t, "count": 0, "source": detector}
            row = found.setdefault(category, empty)
            if score > row["score"]:
                row["score"], row["t"] = round(float(score), 3), round(float(t), 2)
            row["count"] = max(row["count"], int(boxes))
        out.append(sorted(found.values(), key=lambda r: (-r["count"], -r["score"])))
    return out


def merged(labels: list[dict], objects: list[dict]) -> list[dict]:
    """A segment's classifier labels and detected objects, one row per name (the detector's count kept)."""
    rows = {r["label"]: dict(r) for r in labels}
    for obj in objects:
        row = rows.setdefault(obj["label"], dict(obj))
        row["score"] = max(row["score"], obj["score"])
        row["count"] = obj["count"]
    return sorted(rows.values(), key=lambda r: -r["score"])


BRIEF_MIN, BRIEF_MOST = 0.15, 6  # labels a scene line shows (QA, describe): at least this sure, at most this many
# 0.3 was tried: dev absent refused 53/63 -> 58/63 (the 20-28% guesses "crane", "football helmet" went), but the
# silent visual fixture's "What animal appears?" then named the diver scene's "grey whale 48%" instead of its dog
# (tests/test_visual.py): the weak true labels (bird 25%, dog 16%) went too. So 0.15 stays for silent scenes, and
# QA shows a scene with speech or on-screen text only its labels of 0.3 or more (qa/scenes.py TOLD_LABEL_MIN).


@cache
def _settings_spec() -> dict:
    return yaml.safe_load(resources.files("videoagent").joinpath("data", "settings.yaml").read_text())


@cache
def place_settings() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Setting -> (the WordNet kinds of place a line puts something in for it, the words a question uses for
    it), from data/settings.yaml: "parked in the garage" is indoors (a building), "in a field" outdoors."""
    return {
        name: (tuple(row["places"]), tuple(row["words"])) for name, row in _settings_spec().items() if "places" in row
    }


@cache
def setting_rules() -> dict[str, list[tuple[str, float, int]]]:
    """Visual label -> the scene / setting / time-of-day names it implies, as (name, weight, min boxes), from
    the shipped data/settings.yaml ("street sign" -> city 0.7; "person" x6 -> crowd): read by tagging (as
    tags) and QA (as what a scene is seen to be)."""
    spec = _settings_spec()
    direct: dict[str, list[tuple[str, float, int]]] = {}
    for tag, row in spec.items():
        for label in row["from"]:
            direct.setdefault(label, []).append((tag, float(row["weight"]), int(row.get("min_count", 1))))
    # A setting named in another's `from` ("street" -> outdoors) passes it on: a label implying the first
    # implies the second at the product of the weights (one step: settings.yaml names no longer chains).
    rules = {}
    for label, implied in direct.items():
        if label in spec:
            continue
        best: dict[str, tuple[str, float, int]] = {}
        chained = [(far, weight * w, least) for tag, weight, least in implied for far, w, _ in direct.get(tag, ())]
        for rule in implied + chained:  # "street sign" -> city -> outdoors and -> street -> outdoors: once
            if rule[0] not in best or rule[1] > best[rule[0]][1]:
                best[rule[0]] = rule
        rules[label] = list(best.values())
    return rules


def settings_of(row: dict) -> list[tuple[str, float]]:
    """(setting, score) for each setting one label row implies: its score times the rule's weight, where the
    detector saw the boxes the rule asks for ("person" x6 -> crowd)."""
    rules = setting_rules().get(row["label"], ())
    return [(name, float(row["score"]) * weight) for name, weight, least in rules if row.get("count", 1) >= least]


def implied_settings(rows: list[dict]) -> list[dict]:
    """The settings a segment's labels imply ("grey whale" 0.48 -> underwater 0.38), best first: each
    {"label", "score" (the best label's score times the rule's weight), "from" (that label)}."""
    best: dict[str, dict] = {}
    for row in rows:
        for name, value in settings_of(row):
            score = round(value, 3)
            if score > best.get(name, {}).get("score", 0.0):
                best[name] = {"label": name, "score": score, "from": row["label"]}
    return sorted(best.values(), key=lambda r: (-r["score"], r["label"]))


def labels_brief(rows: list[dict], min_score: float = BRIEF_MIN, most: int = BRIEF_MOST) -> str:
    """How a segment's labels read in a scene line (QA's, the describe stage's) and in `show`: "dog 90%,
    person x4 68%" (those at least `min_score`, at most `most`)."""
    shown = [r for r in rows if r["score"] >= min_score][:most]
    return ", ".join(f"{r['label']}{' x' + str(r['count']) if r.get('count', 0) > 1 else ''} {r['score']:.0%}"
                     for r in shown)  # fmt: skip


def labels_document(rows: list[dict]) -> str:
    """How a segment's labels read in `why` and QA evidence: "dog 0.83 (frame 1.2 s), person x4 0.61 ..."."""
    parts = []
    for r in rows:
        count = f" x{r['count']}" if r.get("count", 0) > 1 else ""
        parts.append(f"{r['label']}{count} {r['score']:.2f} (frame {r['t']:g} s)")
    return ", ".join(parts)
