"""The image_classifier role: EfficientNet-Lite0's ImageNet-1k labels and image embeddings on real photos
(scikit-image's, fetched by tools/make_fixtures.py), loaded through the model registry."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # real bundled weights

CATS = {"tabby", "tiger cat", "Egyptian cat", "Persian cat", "Siamese cat"}


def photo(media, name: str) -> np.ndarray:
    import cv2

    path = media.root / "_downloads" / "skimage" / name
    if not path.is_file():
        pytest.skip(f"{path} was not fetched")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def classifier(profile):
    from videoagent.models.registry import Models

    found = Models(profile).image_classifier()
    assert not isinstance(found, Exception), found
    return found


def test_labels_name_what_the_photo_shows(classifier, media):
    assert classifier.name == "imagenet:efficientnet-lite0"  # named for what it is: not CLIP
    cat, coffee, rocket = (photo(media, n) for n in ("chelsea.png", "coffee.png", "rocket.jpg"))
    labels = classifier.classify(np.stack([cat, cat]), top=3) + classifier.classify(coffee[None], top=3)
    assert {lab.name for lab in labels[0]} & CATS and labels[0] == labels[1]
    assert labels[2][0].name == "espresso" and labels[2][0].score > 0.5
    assert classifier.classify(rocket[None], top=3)[0][0].name in {"missile", "projectile", "space shuttle"}
    assert all(0 <= lab.score <= 1 for row in labels for lab in row)


def test_embeddings_compare_pictures_of_the_same_thing(classifier, media):
    cat, coffee = photo(media, "chelsea.png"), photo(media, "coffee.png")
    flipped, smaller = cat[:, ::-1].copy(), cat[::2, ::2].copy()
    emb = classifier.encode_images([cat, flipped, smaller, coffee])
    assert emb.shape == (4, 1280) and np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)
    sims = emb @ emb[0]
    assert min(sims[1], sims[2]) > sims[3] + 0.2  # the same cat, mirrored or resized, beats the coffee cup


def test_the_onnx_export_gives_the_state_dicts_outputs(classifier, media):
    """On CPU the classifier runs its ONNX export (exported once into the cache); torch gives the same."""
    from pathlib import Path

    import torch

    from videoagent.models.encoders.imagenet import _heads, _load_torch
    from videoagent.models.weights import resolve

    assert classifier._session is not None  # the CPU path is ONNX Runtime
    weights = sorted(Path(resolve("bundled:efficientnet-lite0", "image_classifier")).glob("*.pth"))[0]
    x = next(classifier._batches([photo(media, "chelsea.png"), photo(media, "coffee.png")]))
    feats, probs = classifier._run(x)
    with torch.inference_mode():
        want_feats, want_probs = _heads(_load_torch(str(weights), "cpu"))(torch.from_numpy(x))
    assert np.abs(feats - want_feats.numpy()).max() < 1e-3 and np.abs(probs - want_probs.numpy()).max() < 1e-4
