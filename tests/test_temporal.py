"""Temporal modules: shapes, masks, gradients, determinism, checkpoints, ingest integration, and that the
order-aware modules learn frame order where mean pooling cannot."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from videoagent.config import TemporalConfig
from videoagent.temporal.modules import (
    MODULES,
    Mean,
    build,
    load_checkpoint,
    pad,
    pooler_for,
    pooler_from_meta,
    save_checkpoint,
)
from videoagent.training.benchmarks import noisy_pools, order_benchmark
from videoagent.training.temporal import (
    CaptionTower,
    FitConfig,
    fit,
    rank_metrics,
    ranks_of,
    read_manifest,
    similarity,
    video_ranks,
)

DIM = 32
LEARNED = [name for name, cls in MODULES.items() if cls.learned]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    # These models are tiny: on a shared 2-core machine one thread is several times faster than two.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _inputs(seed: int = 0, lengths=(3, 7, 1)):
    rng = np.random.default_rng(seed)
    groups = [rng.standard_normal((n, DIM)).astype(np.float32) for n in lengths]
    tokens = torch.from_numpy(rng.standard_normal((len(lengths), 5, DIM)).astype(np.float32))
    token_mask = torch.tensor([[False, True, True, True, True]] * len(lengths))
    return groups, tokens, token_mask


def _seeded(name: str):
    torch.manual_seed(0)
    return build(name, DIM).eval()


def test_registry_is_what_pipelines_can_name():
    assert all(TemporalConfig(module=name).module == name for name in MODULES)
    with pytest.raises(ValueError, match="choices: " + ", ".join(MODULES)):
        TemporalConfig(module="nonesuch")


@pytest.mark.parametrize("name", list(MODULES))
def test_shapes_and_unit_length(name):
    module = _seeded(name)
    groups, tokens, token_mask = _inputs()
    frames, mask = pad(groups)
    video = module(frames, mask)
    text = module.encode_text(tokens.mean(1), tokens, token_mask)
    assert video.shape == (3, module.out_dim) and text.shape == (3, module.out_dim)
    assert torch.allclose(video.norm(dim=-1), torch.ones(3), atol=1e-5)
    assert torch.allclose(text.norm(dim=-1), torch.ones(3), atol=1e-5)
    with pytest.raises(ValueError):
        module(frames, torch.zeros_like(mask))  # a video with no frame at all is refused, not NaN


@pytest.mark.parametrize("name", list(MODULES))
def test_padding_never_changes_a_video(name):
    """Variable-length videos through masks: a video's vector is the same alone, in a batch, or padded further."""
    module = _seeded(name)
    groups, _, _ = _inputs()
    with torch.no_grad():
        batched = module(*pad(groups))
        alone = torch.cat([module(*pad([g])) for g in groups])
        frames, mask = pad(groups)
        longer = module(F.pad(frames, (0, 0, 0, 4), value=7.0), F.pad(mask, (0, 4)))  # junk in the padding
    assert torch.allclose(batched, alone, atol=1e-5)
    assert torch.allclose(batched, longer, atol=1e-5)


def test_mean_is_clip4clip_meanp():
    groups, _, _ = _inputs()
    got = Mean(DIM)(*pad(groups)).numpy()
    unit = [g / np.linalg.norm(g, axis=1, keepdims=True) for g in groups]
    want = np.stack([u.mean(0) / np.linalg.norm(u.mean(0)) for u in unit])
    assert np.allclose(got, want, atol=1e-5)


def test_order_matters_only_to_order_aware_modules():
    groups, _, _ = _inputs(lengths=(6,))
    forward, backward = pad(groups), pad([groups[0][::-1].copy()])
    for name in MODULES:
        module = _seeded(name)
        with torch.no_grad():
            same = torch.allclose(module(*forward), module(*backward), atol=1e-6)
        assert same == (name in ("mean", "weighted")), name


@pytest.mark.parametrize("name", LEARNED)
def test_gradients_reach_every_weight(name):
    module = _seeded(name).train()
    groups, tokens, token_mask = _inputs()
    video = module(*pad(groups))
    text = module.encode_text(tokens.mean(1), tokens, token_mask)
    loss = F.cross_entropy(10 * text @ video.t(), torch.arange(3))
    loss.backward()
    for pname, p in module.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname
        assert p.grad.abs().sum() > 0, f"{name}.{pname} gets no gradient"


def _small_task(events: int = 2):
    return order_benchmark(noisy_pools(12, DIM, seed=1), events=events, instances=4, seed=1)


def _train(name: str, task, epochs: int = 25):
    torch.manual_seed(0)
    module, tower = build(name, DIM), CaptionTower(DIM)
    losses = fit(module, task.train, FitConfig(epochs=epochs, batch_size=64, lr=3e-3), text_tower=tower)
    r1 = rank_metrics(ranks_of(similarity(module, task.test, tower), task.test.target))["R@1"]
    return module, losses, r1


def test_training_is_deterministic():
    task = _small_task()
    a, losses_a, _ = _train("tdb", task, epochs=2)
    b, losses_b, _ = _train("tdb", task, epochs=2)
    assert losses_a == losses_b
    frames, mask = pad([task.test.frames[0][task.test.frame_mask[0]]])
    assert torch.equal(a(frames, mask), b(frames, mask))


def test_order_aware_modules_learn_order_where_the_mean_is_at_chance():
    """Held-out concept pairs, both orders in the gallery: only frame order tells "A then B" from "B then A"."""
    task = _small_task()
    assert task.chance == 0.5 and len(task.test.frames) >= 30
    results = {name: _train(name, task)[2] for name in ("mean", "transformer", "tdb")}
    print("order benchmark R@1:", results)
    assert results["mean"] <= 70.0  # chance is 50
    assert results["transformer"] >= 85.0 and results["tdb"] >= 85.0


@pytest.mark.parametrize("name", LEARNED)
def test_checkpoint_round_trip(tmp_path, name):
    module = _seeded(name)
    path = tmp_path / f"{name}.pt"
    ckpt_id = save_checkpoint(module, path, "clip:test", epochs=1)
    loaded = load_checkpoint(path)
    assert loaded.id == ckpt_id and loaded.frame_encoder == "clip:test" and loaded.info == {"epochs": 1}
    assert type(loaded.module) is type(module) and loaded.module.settings == module.settings
    groups, tokens, token_mask = _inputs()
    with torch.no_grad():
        assert torch.equal(loaded.module(*pad(groups)), module(*pad(groups)))
        assert torch.equal(
            loaded.module.encode_text(tokens.mean(1), tokens, token_mask),
            module.encode_text(tokens.mean(1), tokens, token_mask),
        )


def test_learned_module_runs_only_with_its_own_checkpoint(tmp_path):
    path = tmp_path / "tdb.pt"
    ckpt_id = save_checkpoint(_seeded("tdb"), path, "clip:a")
    pooler, detail = pooler_for("tdb", str(path), "clip:a", DIM)
    assert pooler.module.name == "tdb" and detail == f"tdb:{ckpt_id}" and pooler.meta["temporal_id"] == ckpt_id
    # Never random weights: every mismatch falls back to the mean, and says why.
    for module, checkpoint, encoder, dim, why in [
        ("tdb", None, "clip:a", DIM, "no checkpoint"),
        ("tdb", str(tmp_path / "absent.pt"), "clip:a", DIM, "no such"),
        ("tdb", str(path), "clip:b", DIM, "trained for clip:a"),
        ("tdb", str(path), "clip:a", DIM * 2, "trained for clip:a"),
        ("transformer", str(path), "clip:a", DIM, "holds tdb"),
    ]:
        pooler, detail = pooler_for(module, checkpoint, encoder, dim)
        assert pooler.module.name == "mean" and pooler.meta == {"temporal": "mean"}, detail
        assert why in detail and "mean pooling used" in detail


def test_index_rows_find_their_checkpoint_and_notice_a_changed_one(tmp_path):
    path = tmp_path / "w.pt"
    save_checkpoint(_seeded("weighted"), path, "clip:a")
    pooler, _ = pooler_for("weighted", str(path), "clip:a", DIM)
    assert pooler_from_meta(pooler.meta, DIM).tag == pooler.tag
    assert pooler_from_meta({}, DIM).module.name == "mean"  # rows written before temporal modules existed
    save_checkpoint(_seeded("weighted").train(), path, "clip:a", note="retrained")
    with pytest.raises(ValueError, match="changed"):
        pooler_from_meta(pooler.meta, DIM)


def test_rank_metrics():
    sim = np.array([[0.9, 0.1, 0.0], [0.8, 0.7, 0.0], [0.1, 0.2, 0.3], [0.5, 0.5, 0.5]])
    target = np.array([0, 1, 2, 2])  # caption 1 ranks its clip 2nd; caption 3 ties all three
    ranks = ranks_of(sim, target)
    assert list(ranks[:3]) == [1, 2, 1] and 1 <= ranks[3] <= 3
    assert list(video_ranks(sim, target)) == [1, 1, 1]  # each clip's best caption is first
    crossed = np.array([[0.2, 0.9], [0.5, 0.1]])  # each caption prefers the other clip
    assert list(ranks_of(crossed, np.array([0, 1]))) == [2, 2]
    assert list(video_ranks(crossed, np.array([0, 1]))) == [2, 2]
    m = rank_metrics([1, 2, 1, 12])
    assert m["R@1"] == 50.0 and m["R@5"] == 75.0 and m["R@10"] == 75.0 and m["MdR"] == 1.5


def test_manifest_rows_and_errors(tmp_path):
    good = tmp_path / "m.csv"
    good.write_text("path,caption,start_s,end_s\nclips/a.mp4,a cat,1.5,4\n/abs/b.mp4,a dog,,\n")
    pairs = read_manifest(good)
    assert pairs[0].clip.path == str(tmp_path / "clips/a.mp4") and pairs[0].clip.end_s == 4.0
    assert pairs[1].clip.start_s == 0.0 and pairs[1].clip.end_s is None and pairs[1].caption == "a dog"
    jsonl = tmp_path / "m.jsonl"
    jsonl.write_text('{"path": "a.mp4", "caption": "x"}\n{"path": "b.mp4"}\n')
    with pytest.raises(ValueError, match=r"m\.jsonl:2: needs `path` and `caption`"):
        read_manifest(jsonl)


# ---- end to end: train on real clips, ingest with the checkpoint, search through it ------------------
def _tiny_clip_profile(tmp_path, tiny_clip):
    path = tmp_path / "tiny.yaml"
    path.write_text(f"name: tiny-clip\nextends: default\nframe_encoder:\n  model: {tiny_clip}\n  fallback: null\n")
    return path


def _pipeline(module: str, checkpoint=None):
    from videoagent.config import load_pipeline

    base = load_pipeline()
    off = {"enabled": False}
    return base.model_validate(
        {**base.model_dump(), "asr": off, "ocr": off, "tracks": {**base.tracks.model_dump(), **off},
         "labels": {**base.labels.model_dump(), **off},  # the CLIP space alone answers: `why` names it
         "temporal": {"module": module, "checkpoint": checkpoint and str(checkpoint)}}
    )  # fmt: skip


@pytest.mark.slow
def test_trained_checkpoint_loads_back_into_ingest_and_search(tmp_path, tiny_clip, media):
    from videoagent.config import load_profile
    from videoagent.index.retrieval import Retriever
    from videoagent.index.store import Store
    from videoagent.ingest.pipeline import Ingestor
    from videoagent.models.registry import Models

    profile_path = _tiny_clip_profile(tmp_path, tiny_clip)
    manifest = tmp_path / "train.jsonl"
    rows = [{"path": str(media.path("narrated_small")), "caption": s["sentence"], "start_s": s["start_s"],
             "end_s": s["end_s"]} for s in media["narrated"]["scenes"]]  # fmt: skip
    rows += [{"path": str(media.path(n)), "caption": media[n]["description"]} for n in ("launch", "city", "bikes")]
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ckpt = tmp_path / "tdb.pt"
    proc = subprocess.run(
        [sys.executable, "tools/train_temporal.py", str(manifest), "--module", "tdb", "--out", str(ckpt),
         "--profile", str(profile_path), "--frames", "4", "--epochs", "3", "--threads", "1",
         "--cache", str(tmp_path / "cache"), "--json"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["clips"] == 8 and doc["captions"] == 8 and len(doc["losses"]) == 3
    assert doc["frame_encoder"].startswith("clip:") and ckpt.exists()

    profile = load_profile(str(profile_path))
    store = Store(tmp_path / "index")
    result = Ingestor(store, profile, _pipeline("tdb", ckpt)).ingest_one(media.path("narrated_small"))
    assert result.status == "done", result.error
    assert result.stages["temporal"] == f"done: tdb:{doc['id']}"
    visual = [c for c in store.collections() if c.startswith("visual_clip")]
    assert visual == [f"visual_{visual[0].split('_')[1]}__tdb-{doc['id']}"]
    meta = store.collection(visual[0]).get(limit=1, include=["metadatas"])["metadatas"][0]
    assert meta["temporal"] == "tdb" and meta["temporal_id"] == doc["id"]

    retriever = Retriever(store, Models.shared(profile))
    hits = retriever.search_text("a tabby cat", top_k=3)
    assert hits and all("visual" in h.channels for h in hits) and f"tdb:{doc['id']}" in hits[0].why
    similar = retriever.search_video(media.path("narrated"), top_k=1)
    assert similar[0].video_id == result.video_id and "tdb" in similar[0].why

    # Tagging's visual channel reads the same space: the tags' prompts go through tdb's text side.
    from videoagent.tagging.tagger import Tagger

    tagger = Tagger(store, Models.shared(profile))
    assert tagger.plan.channels["visual"] == f"used: tdb:{doc['id']} pooling"
    recalled = tagger.candidates([result.video_id])[result.video_id]
    seen = [e for c in recalled.values() for e in c.evidence if e.channel == "visual"]
    assert seen and {(e.start_s, e.end_s) for e in seen} <= {
        (s.start_s, s.end_s) for s in store.segments(result.video_id)
    }

    # The same pipeline without the checkpoint: mean pooling, reported, into the plain collection.
    fallback = Ingestor(store, profile, _pipeline("tdb")).ingest_one(media.path("carphone"))
    assert fallback.stages["temporal"] == "skipped: tdb has no checkpoint: mean pooling used"
    plain = visual[0].split("__")[0]
    assert store.collection(plain).get(where={"video_id": fallback.video_id})["ids"]
