"""The video Q-Former: shapes and masking, checkpoints, learning to caption through a real frozen LLM
(SmolLM2, bundled) from the default profile's frame features, and the captions stage of ingest."""

from __future__ import annotations

import pytest
import torch

from videoagent.temporal.qformer import Captioner, QFormerSettings, VideoQFormer, load_captioner, save_checkpoint
from videoagent.training.qformer import fit

SMALL = QFormerSettings(queries=4, hidden=32, layers=1, heads=2, max_frames=8)


def test_soft_prompt_shape_and_padding_changes_nothing():
    torch.manual_seed(0)
    qf = VideoQFormer(frame_dim=16, llm_dim=24, settings=SMALL).eval()
    clip = torch.randn(1, 3, 16)
    alone = qf(clip, torch.ones(1, 3, dtype=torch.bool))
    padded = qf(torch.cat([clip, torch.zeros(1, 2, 16)], 1), torch.tensor([[True] * 3 + [False] * 2]))
    assert alone.shape == (1, 4, 24)
    assert torch.allclose(alone, padded, atol=1e-5)
    # Frames beyond max_frames are cut, not an index error.
    assert qf(torch.randn(2, 12, 16), torch.ones(2, 12, dtype=torch.bool)).shape == (2, 4, 24)


def keyframes(path, start_s: float, end_s: float, encoder, pipeline):
    """A scene's frame features as ingest samples them (its keyframe times)."""
    from videoagent.ingest.scenes import Segment, keyframe_times
    from videoagent.media.frames import open_frames

    return encoder.encode_images(open_frames(path).read(keyframe_times(Segment(start_s, end_s), pipeline.keyframes)))


@pytest.fixture(scope="module")
def scenes(media, profile, pipeline):
    """Fingerprint features of the narrated fixture's 5 scenes and their narration sentences."""
    from videoagent.models.registry import Models

    encoder = Models.shared(profile).frame_encoder()
    scenes = media["narrated"]["scenes"]
    clips = [keyframes(media.path("narrated"), s["start_s"], s["end_s"], encoder, pipeline) for s in scenes]
    return encoder, clips, [s["sentence"] for s in scenes]


@pytest.fixture(scope="module")
def trained(scenes, tmp_path_factory):
    """A Q-Former trained on the 5 scenes in front of the real SmolLM2 (frozen), saved as a checkpoint."""
    from videoagent.config import LlmConfig
    from videoagent.qa.llm import load_local

    encoder, clips, captions = scenes
    cfg = LlmConfig(model="bundled:smollm2-135m")
    llm = load_local(cfg)
    before = {k: v.clone() for k, v in llm._model.state_dict().items()}
    torch.manual_seed(0)
    captioner = Captioner(VideoQFormer(encoder.dim, llm._model.get_input_embeddings().embedding_dim), llm)
    losses = fit(captioner, clips, captions, epochs=30, batch=1, lr=5e-4)
    frozen = all(torch.equal(before[k], v) for k, v in llm._model.state_dict().items())
    path = tmp_path_factory.mktemp("qformer") / "qformer.pt"
    save_checkpoint(captioner.qformer, path, encoder.name, cfg, epochs=30)
    return captioner, losses, frozen, path


@pytest.mark.slow
def test_learns_to_caption_through_a_frozen_llm(scenes, trained, media, pipeline):
    encoder, clips, captions = scenes
    captioner, losses, frozen, _ = trained
    assert frozen, "the LLM's weights changed: only the Q-Former side may learn"
    assert losses[-1] < losses[0] / 3
    said = captioner.caption(clips)
    # The soft prompt alone tells the LLM which scene it sees: each clip's own subject comes out.
    subjects = ["astronaut", "cat", "coffee", "rocket", "motorcycle"]
    assert sum(s in out.lower() for s, out in zip(subjects, said, strict=True)) >= 4, said
    # Another video showing the same photo (the injection fixture's 4-8 s, under a different overlay).
    other = keyframes(media.path("injection"), 4.0, 8.0, encoder, pipeline)
    assert "coffee" in captioner.caption([other])[0].lower()


@pytest.mark.slow
@torch.no_grad()
def test_a_padded_batch_trains_like_its_clips_alone(scenes, trained):
    """Padding a batch changes no clip's loss: the batch loss is the token-weighted mean of each clip's
    loss alone (the mask hides the left padding; positions count from each row's first token)."""
    _, clips, captions = scenes
    captioner = trained[0]
    captioner.qformer.eval()  # no dropout: the same clip must give the same loss twice
    pair, texts = clips[:2], [captions[0], captions[1] + " It is a very calm and quiet afternoon."]
    counts = [int((captioner._inputs([c], [t])[2] != -100).sum()) for c, t in zip(pair, texts, strict=True)]
    alone = [float(captioner.loss([c], [t])) for c, t in zip(pair, texts, strict=True)]
    expected = sum(a * n for a, n in zip(alone, counts, strict=True)) / sum(counts)
    assert counts[0] != counts[1]
    assert float(captioner.loss(pair, texts)) == pytest.approx(expected, rel=1e-3)


@pytest.mark.slow
def test_checkpoint_round_trip_and_its_frame_encoder_is_enforced(scenes, trained):
    encoder, clips, _ = scenes
    captioner, _, _, path = trained
    loaded = load_captioner(path, encoder.name)
    assert loaded.caption(clips[:2]) == captioner.caption(clips[:2])
    with pytest.raises(ValueError, match="not clip:other"):
        load_captioner(path, "clip:other")


@pytest.mark.slow
def test_ingest_writes_captions_for_search_and_the_planner(scenes, trained, media, profile, tmp_path):
    from videoagent.config import LlmConfig, load_pipeline
    from videoagent.index.retrieval import Retriever
    from videoagent.index.store import Store
    from videoagent.index.view import IndexView
    from videoagent.ingest.pipeline import Ingestor
    from videoagent.models.registry import Models

    _, _, _, path = trained
    base = load_pipeline()
    off = {"enabled": False}
    pipeline = base.model_validate(
        {**base.model_dump(), "asr": off, "ocr": off, "tracks": {**base.tracks.model_dump(), **off},
         "captions": {"checkpoint": str(path)}}
    )  # fmt: skip
    store = Store(tmp_path / "index")
    result = Ingestor(store, profile, pipeline).ingest_one(media.path("narrated"))
    assert result.status == "done" and result.stages["captions"] == "done: 5 segments"
    captions = [s.caption for s in store.segments(result.video_id)]
    assert "motorcycle" in captions[4].lower() and all(captions)

    view = IndexView(store.root)
    assert view.has_captions(result.video_id)
    assert [c["start_s"] for c in view.describe_segment(result.video_id, 16.0, 20.0)] == [16.0]
    hits = Retriever(store, Models.shared(profile)).search_text("a motorcycle parked in a garage", top_k=1)
    assert hits[0].start_s == 16.0 and "caption" in hits[0].channels

    # A checkpoint for another frame encoder costs the captions, not the video, and says why.
    fake = tmp_path / "other.pt"
    save_checkpoint(VideoQFormer(8, 576, SMALL), fake, "clip:other", LlmConfig(model="bundled:smollm2-135m"))
    pipeline2 = pipeline.model_copy(update={"captions": pipeline.captions.model_copy(update={"checkpoint": str(fake)})})
    again = Ingestor(Store(tmp_path / "index2"), profile, pipeline2).ingest_one(media.path("narrated_small"))
    assert again.status == "done" and again.stages["captions"].startswith("skipped:")
    assert "trained on clip:other features" in again.stages["captions"]


@pytest.mark.slow
def test_default_pipeline_has_no_captioner_and_says_so(ingested):
    _, results = ingested
    assert results["narrated"].stages["captions"] == "skipped: no Q-Former checkpoint in the pipeline"
