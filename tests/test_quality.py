"""Quality on real fixtures with the real bundled models: cuts, speech, on-screen text."""

from __future__ import annotations

import jiwer
import pytest

from videoagent.ingest.scenes import detect_cuts

pytestmark = pytest.mark.slow  # real ingests and fixture media

WER_LIMIT = 0.25


def wer(reference: str, hypothesis: str) -> float:
    norm = jiwer.Compose([jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(),
                          jiwer.Strip(), jiwer.ReduceToListOfListOfWords()])  # fmt: skip
    return jiwer.wer(reference, hypothesis, reference_transform=norm, hypothesis_transform=norm)


def test_narrated_cuts_match_ground_truth(ingested, media):
    store, results = ingested
    truth = media["narrated"]["cuts"]
    found = [s["start_s"] for s in results["narrated"].segments[1:]]
    assert len(found) == len(truth), found
    for want, got in zip(truth, found, strict=True):
        assert abs(want - got) <= 0.25, (want, got)


@pytest.mark.parametrize("name", ["launch", "city", "bikes"])
def test_real_clip_cuts(media, pipeline, name):
    """Every documented hard cut of the real clips is found within ±0.25 s."""
    cuts = detect_cuts(media.path(name), pipeline.scenes)
    for want in media[name]["cuts"]:
        assert min(abs(want - c) for c in cuts) <= 0.25, (want, cuts)


@pytest.mark.parametrize("name", ["narrated", "visual", "city", "bikes"])
def test_cuts_from_the_reference_frames_alone_are_those_of_every_frame(media, pipeline, name, monkeypatch):
    """Codecs with B-frames: the scenes pass decodes only the reference frames, and finds the cuts that
    PySceneDetect's OpenCV backend finds decoding every frame."""
    from videoagent.ingest import scenes
    from videoagent.media.frames import reference_frames

    assert reference_frames(media.path(name)) is not None  # this file has B-frames: the short pass runs
    fast = scenes.detect_cuts(media.path(name), pipeline.scenes)
    monkeypatch.setattr(scenes, "reference_frames", lambda path, downscale=1: None)
    full = scenes.detect_cuts(media.path(name), pipeline.scenes)
    assert len(fast) == len(full) and all(abs(a - b) <= 0.1 for a, b in zip(fast, full, strict=True)), (fast, full)
    assert len(full) >= len(media[name]["cuts"])


def test_narrated_transcript_wer(ingested, media):
    store, results = ingested
    segments = store.segments(results["narrated"].video_id)
    scenes = media["narrated"]["scenes"]
    score = wer(" ".join(s["sentence"] for s in scenes), " ".join(s.transcript for s in segments))
    print(f"narrated WER (bundled tiny.en): {score:.3f}")
    assert score <= WER_LIMIT
    # Segment-aligned: each scene's sentence lands in its own segment.
    for scene, seg in zip(scenes, segments, strict=True):
        assert wer(scene["sentence"], seg.transcript) <= 0.5, (scene["sentence"], seg.transcript)


def test_real_speech_wer(ingested, media):
    store, results = ingested
    transcript = " ".join(s.transcript for s in store.segments(results["speech"].video_id))
    score = wer(media["speech"]["transcript"], transcript)
    print(f"librivox WER (bundled tiny.en): {score:.3f}")
    assert score <= WER_LIMIT, transcript


def _squash(text: str) -> str:
    # Compare letters only (the spacing has its own test below).
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def test_spaced_overlays_keep_the_spaces_between_words(ingested, media):
    """PP-OCRv4 reads "CAT CAFE OPEN" as one word; the character positions put the spaces back."""
    store, results = ingested
    read = [t for seg in store.segments(results["narrated"].video_id) for t in seg.ocr]
    for overlay in media["narrated"]["overlays"]:
        assert overlay in read, (overlay, read)


def test_overlays_read_in_their_segment(ingested, media):
    store, results = ingested
    segments = store.segments(results["narrated"].video_id)
    overlays = [_squash(o) for o in media["narrated"]["overlays"]]
    for scene, seg in zip(media["narrated"]["scenes"], segments, strict=True):
        seen = _squash(" ".join(seg.ocr))
        expected = [_squash(scene["overlay"])] if scene["overlay"] else []
        # Photos may hold small text of their own (a badge): only the overlays are checked.
        assert [o for o in overlays if o in seen] == expected, (scene["overlay"], seg.ocr)


def test_overlay_kept_once_per_segment(ingested):
    """Text that stays on screen across a segment's keyframes is stored once."""
    store, results = ingested
    for seg in store.segments(results["narrated"].video_id):
        squashed = [_squash(t) for t in seg.ocr]
        assert len(squashed) == len(set(squashed)), seg.ocr
