"""Order benchmarks for temporal modules: synthetic concept pools whose order only a sequence model sees."""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass

import numpy as np

from ..temporal.modules import pad
from .temporal import PairData

log = logging.getLogger(__name__)


@dataclass
class OrderTask:
    train: PairData
    test: PairData
    events: int
    chance: float  # R@1 of any order-blind module on `test`


def order_benchmark(
    pools: list[np.ndarray],
    events: int = 2,
    instances: int = 4,
    test_fraction: float = 0.25,
    frames_per_event: tuple[int, int] = (2, 6),
    seed: int = 0,
    max_sets: int | None = None,
) -> OrderTask:
    """Clips that show `events` concepts one after another, captioned "A then B ...".

    pools[c] holds frame features of concept c (noisy copies of a vector, or real frames); an event
    lasts a random number of frames drawn from its pool. Every ordering of a concept set is in the
    test split and the test sets are unseen in training, so the orderings share one mean feature
    (up to noise): the mean pools them together and is at chance (1/events!) by construction.
    Caption tokens are the concepts' mean features with a shared "then" vector between them.
    """
    rng = np.random.default_rng(seed)
    dim = pools[0].shape[1]
    words = np.stack([p.mean(0) / np.linalg.norm(p.mean(0)) for p in pools]).astype(np.float32)
    then = rng.standard_normal(dim).astype(np.float32)
    then /= np.linalg.norm(then)
    sets = list(itertools.combinations(range(len(pools)), events))
    rng.shuffle(sets)
    sets = sets[:max_sets]
    n_test = max(1, round(len(sets) * test_fraction))

    def make(concept_sets, copies: int) -> PairData:
        clips, captions = [], []
        for concepts in concept_sets:
            for order in itertools.permutations(concepts):
                tokens = [words[order[0]]]
                for c in order[1:]:
                    tokens += [then, words[c]]
                captions += [np.stack(tokens)] * copies
                for _ in range(copies):
                    clips.append(
                        np.concatenate(
                            [pools[c][rng.integers(0, len(pools[c]), rng.integers(*frames_per_event, endpoint=True))]
                             for c in order]
                        )
                    )  # fmt: skip
        frames, mask = pad(clips)
        tokens = np.stack(captions)
        return PairData(
            frames.numpy(), mask.numpy(), tokens.mean(1), np.arange(len(captions)),
            tokens, np.ones(tokens.shape[:2], bool),
        )  # fmt: skip

    test = make(sets[:n_test], 1)
    return OrderTask(make(sets[n_test:], instances), test, events, 1.0 / math.factorial(events))


def noisy_pools(concepts: int, dim: int, per_concept: int = 64, noise: float = 0.5, seed: int = 0) -> list[np.ndarray]:
    """Synthetic frame features: unit vectors per concept plus Gaussian noise (relative norm `noise`)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((concepts, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    pools = []
    for c in centres:
        x = c + noise * rng.standard_normal((per_concept, dim)) / math.sqrt(dim)
        pools.append((x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32))
    return pools
