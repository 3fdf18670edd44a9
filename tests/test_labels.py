"""The labels stage's logic on synthetic input: kinds summed over classes, letterbox trimming, crops,
per-segment pooling, detector objects, and how labels read in search and QA."""

from __future__ import annotations

import numpy as np

from videoagent.ingest.labels import channel_name, labels_document, merged, pooled_labels, segment_objects
from videoagent.ingest.scenes import Segment
from videoagent.models.encoders.imagenet import class_kinds, kind_scores, square_crops, trim_borders
from videoagent.qa.scenes import seen_text


def test_kinds_come_from_wordnet_for_every_class():
    kinds = class_kinds()
    assert len(kinds) == 1000
    assert {"dog", "animal"} <= set(kinds["Samoyed"]) and "cat" in kinds["tabby"]
    assert {"bird", "parrot"} <= set(kinds["sulphur-crested cockatoo"]) and "car" in kinds["sports car"]
    assert not {"entity", "object", "whole"} & {k for v in kinds.values() for k in v}  # no upper nodes


def test_a_kind_sums_the_probabilities_of_its_classes():
    labels = ["Samoyed", "Pomeranian", "tabby", "espresso"]
    scores = kind_scores(np.asarray([0.4, 0.3, 0.2, 0.1]), labels)
    assert abs(scores["dog"] - 0.7) < 1e-6 and abs(scores["animal"] - 0.9) < 1e-6
    assert abs(scores["Samoyed"] - 0.4) < 1e-6 and abs(scores["coffee"] - 0.1) < 1e-6
    assert max(scores.values()) <= 1.0


def test_letterbox_bars_are_trimmed_and_wide_frames_read_as_three_crops():
    frame = np.zeros((720, 1280, 3), np.uint8)
    frame[90:630, :, :] = 128  # a 1280x540 picture between black bars
    inner = trim_borders(frame)
    assert inner.shape[:2] == (540, 1280)
    crops = square_crops(inner)
    assert len(crops) == 3 and all(c.shape[:2] == (540, 540) for c in crops)
    assert len(square_crops(np.zeros((500, 520, 3), np.uint8))) == 1  # near square: one
    dark = np.zeros((100, 100, 3), np.uint8)
    assert trim_borders(dark).shape == dark.shape  # an all-dark frame is kept whole


def test_segment_labels_pool_keyframes_and_name_the_best_frame():
    classes = ["Samoyed", "tabby", "espresso"]
    probs = np.asarray([[0.9, 0.05, 0.05], [0.5, 0.1, 0.4]], np.float32)
    rows = pooled_labels(probs, [1.0, 3.0], classes, top_k=3, min_score=0.2, source="imagenet-labels:x")
    names = [r["label"] for r in rows]
    assert names[0] in ("animal", "mammal", "dog", "domestic animal") and "espresso" not in names[:3]
    samoyed = pooled_labels(probs, [1.0, 3.0], classes, top_k=10, min_score=0.2, source="s")
    row = next(r for r in samoyed if r["label"] == "Samoyed")
    assert row["score"] == 0.7 and row["t"] == 1.0  # the mean over keyframes; its best keyframe
    assert all(r["score"] >= 0.2 for r in samoyed) and pooled_labels(probs[:0], [], classes, 3, 0.2) == []


def test_detector_objects_per_segment_and_merged_with_labels():
    seen = [[0.5, "person", 0.7, 2, "det"], [1.0, "person", 0.9, 4, "det"], [1.0, "car", 0.6, 1, "det"],
            [5.0, "dog", 0.8, 1, "det"]]  # fmt: skip
    per = segment_objects(seen, [Segment(0.0, 4.0), Segment(4.0, 8.0)])
    assert per[0][0] == {"label": "person", "score": 0.9, "t": 1.0, "count": 4, "source": "det"}
    assert [r["label"] for r in per[0]] == ["person", "car"] and [r["label"] for r in per[1]] == ["dog"]
    both = merged([{"label": "dog", "score": 0.6, "t": 4.5, "source": "cls"}], per[1])
    assert both == [{"label": "dog", "score": 0.8, "t": 4.5, "source": "cls", "count": 1}]


def test_labels_read_with_their_model_frame_and_certainty():
    assert channel_name("imagenet:efficientnet-lite0") == "imagenet-labels:efficientnet-lite0"
    rows = [{"label": "dog", "score": 0.83, "t": 1.2}, {"label": "person", "score": 0.61, "t": 2.0, "count": 4}]
    assert labels_document(rows) == "dog 0.83 (frame 1.2 s), person x4 0.61 (frame 2 s)"
    assert seen_text(None, rows + [{"label": "tripod", "score": 0.05, "t": 0.0}]) == "dog 83%, person x4 61%"
    assert seen_text("a dog on a sofa", []) == "a dog on a sofa"
    weak = rows + [{"label": "crane", "score": 0.28, "t": 0.0}]
    assert seen_text(None, weak) == "dog 83%, person x4 61%, crane 28%"  # a silent scene: its pixels are all
    assert seen_text(None, weak, told=True) == "dog 83%, person x4 61%"  # speech or text: no weak guesses


def test_ocr_puts_back_the_spaces_a_wide_step_between_characters_shows():
    from videoagent.models.ocr import spaced

    # SYSTEMOVERRIDE as read from the injection fixture: the step from M to O is twice the others.
    starts = [153, 174, 195, 220, 241, 267, 308, 334, 359, 380, 406, 423, 442, 468]
    assert spaced(list("SYSTEMOVERRIDE"), starts) == "SYSTEM OVERRIDE"
    assert spaced(list("A B"), [0, 10, 20]) == "A B"  # a space already read stays one space
    assert spaced(list("OK"), [0, 90]) == "OK" and spaced([], []) == ""
