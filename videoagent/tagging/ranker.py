"""The tag ranker: fuse a candidate tag's channel scores into one calibrated score in [0, 1].

score = sigmoid(bias + sum_c weight_c * feature_c), with features
    text     best cosine similarity between the tag's text embedding and a segment's transcript/OCR/caption
    keyword  1 when a segment's text names the tag (a name or synonym, matched by lemma), else 0
    labels   the probability of the best visual label naming the tag (ImageNet classes and their WordNet
             kinds, pooled per segment; the detector's categories), 0.7x when the tag names part of it
    visual   best CLIP similarity between the prompted tag name and a segment's frames (0 without CLIP)
    related  best (similarity x content score) of the tag on the nearest videos in the index

Without labelled examples the weights are the hand-set `Ranker.default()`, chosen on the narrated fixture's
score distribution (all-MiniLM-L6-v2 puts a one-word tag and a sentence naming it at cosine 0.35-0.6, and
unrelated tags at up to 0.55): to pass 0.5 a tag needs a keyword hit backed by text similarity >= 0.32, or
text alone >= 0.82, or a near-duplicate video (similarity >= 0.9) on which it scored >= 0.9. The visual
weight assumes CLIP ViT-B/32 cosines (≈0.3 for a match) and is a guess until fitted; the labels weight makes
a label alone pass 0.5 at probability 0.5 (more likely there than not). With labelled examples
`Ranker.fit` fits a logistic regression (scikit-learn) and the score is a fitted probability.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import BadInput

FEATURES = ("text", "keyword", "labels", "visual", "related")


@dataclass
class Ranker:
    weights: dict[str, float]
    bias: float
    fitted_on: dict[str, int] = field(default_factory=dict)  # {"positives": n, "negatives": m} when fitted

    @classmethod
    def default(cls) -> Ranker:
        return cls({"text": 8.0, "keyword": 4.0, "labels": 7.5, "visual": 25.0, "related": 8.0}, bias=-6.5)

    def score(self, features: dict[str, float]) -> float:
        z = self.bias + sum(self.weights.get(f, 0.0) * features.get(f, 0.0) for f in FEATURES)
        return 1.0 / (1.0 + math.exp(-z))

    @classmethod
    def fit(cls, examples: Sequence[tuple[dict[str, float], bool]], c: float = 1.0) -> Ranker:
        """Logistic regression on (features, is-a-right-tag) pairs; needs both kinds of example."""
        from sklearn.linear_model import LogisticRegression

        labels = [bool(y) for _, y in examples]
        if all(labels) or not any(labels):
            raise BadInput("fitting the ranker needs both positive and negative examples")
        x = [[f.get(name, 0.0) for name in FEATURES] for f, _ in examples]
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=1000).fit(x, labels)
        weights = {name: float(w) for name, w in zip(FEATURES, model.coef_[0], strict=True)}
        return cls(
            weights, float(model.intercept_[0]), {"positives": sum(labels), "negatives": len(labels) - sum(labels)}
        )

    @classmethod
    def load(cls, path: str | Path) -> Ranker:
        try:
            data = json.loads(Path(path).read_text())
            return cls(
                {k: float(v) for k, v in data["weights"].items()}, float(data["bias"]), data.get("fitted_on", {})
            )
        except FileNotFoundError:
            raise BadInput(f"{path}: no such ranker file") from None
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadInput(f"{path}: not a ranker file ({type(exc).__name__}: {exc})") from None

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=2) + "\n")
