"""Plumbing: segments, keyframes, OCR de-duplication, config hashes, artifacts, the fingerprint encoder."""

from __future__ import annotations

import numpy as np
import pytest

from videoagent.config import KeyframeConfig, SceneConfig, config_hash, load_pipeline, load_profile
from videoagent.errors import ConfigError
from videoagent.ingest.artifacts import Artifacts
from videoagent.ingest.scenes import Segment, fixed_windows, keyframe_times, segments_from_cuts
from videoagent.models.ocr import dedupe


def test_segments_cover_the_video_and_split_long_scenes():
    cfg = SceneConfig(max_scene_s=10.0)
    segs = segments_from_cuts([3.0, 28.0, 99.0], duration_s=30.0, cfg=cfg)  # the 25 s scene: three windows
    assert segs[0] == Segment(0.0, 3.0, shot=0)
    assert [s.duration_s for s in segs[1:4]] == pytest.approx([25 / 3] * 3, abs=0.002)
    assert [s.shot for s in segs] == [0, 1, 1, 1, 2]  # the windows of one shot keep its number
    assert segs[-1] == Segment(28.0, 30.0, shot=2)
    assert all(a.end_s == b.start_s for a, b in zip(segs, segs[1:], strict=False))


def test_no_cuts_is_one_segment_and_windows_cover_everything():
    assert segments_from_cuts([], 7.5, SceneConfig()) == [Segment(0.0, 7.5, shot=0)]
    wins = fixed_windows(25.0, 10.0)
    assert len(wins) == 3 and wins[0].start_s == 0.0 and wins[-1].end_s == 25.0
    assert {w.shot for w in wins} == {None}  # fixed windows are not shots


def test_a_scenes_artifact_from_before_shots_were_kept_restores_them_as_unknown():
    from types import SimpleNamespace

    from videoagent.ingest.scenes import Scenes

    ctx = SimpleNamespace(pipeline=load_pipeline())
    old = Scenes().restore({"segments": [[0.0, 30.0], [30.0, 60.0]], "how": "scenes"}, None, ctx)
    assert [s.shot for s in old["segments"]] == [None, None]  # not guessed: counts fall back to segments
    new = Scenes().restore({"segments": [[0.0, 30.0], [30.0, 60.0]], "how": "scenes", "shots": [0, 0]}, None, ctx)
    assert [s.shot for s in new["segments"]] == [0, 0]


def test_keyframes_are_interior_and_bounded():
    cfg = KeyframeConfig(interval_s=2.0, max_per_segment=3)
    assert keyframe_times(Segment(4.0, 8.0), cfg) == [5.0, 7.0]
    assert keyframe_times(Segment(0.0, 0.4), cfg) == [0.2]
    assert len(keyframe_times(Segment(0.0, 100.0), cfg)) == 3


def test_ocr_dedupe_merges_repeats_and_near_misses():
    assert dedupe(["CAT CAFE OPEN", "cat  cafe open", "CAT CAFE 0PEN", "Menu", "menu"]) == ["CAT CAFE OPEN", "Menu"]


def test_config_hash_changes_with_settings_only():
    assert config_hash(SceneConfig()) == config_hash(SceneConfig())
    assert config_hash(SceneConfig()) != config_hash(SceneConfig(threshold=30.0))


def test_profiles_extend_and_validate(tmp_path):
    hub = load_profile("hub")
    assert hub.asr.model == "base" and hub.ocr == load_profile("default").ocr
    bad = tmp_path / "bad.yaml"
    bad.write_text("asr:\n  backend: nonsense\n")
    with pytest.raises(ConfigError, match="faster-whisper"):  # names the choices
        load_profile(str(bad))
    assert load_pipeline().scenes.detector == "content"


def test_artifacts_round_trip_and_hash_mismatch(tmp_path):
    art = Artifacts(tmp_path, "abc")
    art.save("frames", "h1", {"encoder": "x"}, {"embeddings": np.eye(3, dtype=np.float32)})
    data, arrays = art.load("frames", "h1")
    assert data == {"encoder": "x"} and np.array_equal(arrays["embeddings"], np.eye(3))
    assert art.load("frames", "h2") is None
    assert not list(art.dir.glob("*.tmp"))


@pytest.mark.slow
def test_fingerprint_matches_resized_copy_not_other_footage(media):
    """The fingerprint finds a re-encoded, resized copy of the same shot, and not other footage."""
    from videoagent.media.frames import open_frames
    from videoagent.models.encoders.fingerprint import Fingerprint

    enc = Fingerprint()
    big = enc.encode_images(open_frames(media.path("narrated")).read([2.0, 6.0, 10.0]))
    small = enc.encode_images(open_frames(media.path("narrated_small")).read([2.0, 6.0, 10.0]))
    sims = small @ big.T
    assert sims.shape == (3, 3) and big.dtype == np.float32
    assert np.all(np.argmax(sims, axis=1) == np.arange(3))
    assert np.all(np.diag(sims) > 0.95)


@pytest.mark.slow
def test_pyav_reader_matches_decord(media):
    """The fallback reader returns the same frames as decord for the same times (repeats and order kept)."""
    from videoagent.media.frames import DecordReader, PyAVReader

    path = media.path("launch")
    times = [6.0, 0.5, 3.2, 0.5]
    fast, slow = DecordReader(path), PyAVReader(path)
    assert np.allclose(fast.frame_times(), slow.frame_times(), atol=1e-3)
    a, b = fast.read(times), slow.read(times)
    assert a.shape == b.shape and a.shape[0] == 4
    assert np.abs(a.astype(int) - b.astype(int)).mean() < 2.0
    assert np.array_equal(b[1], b[3])
