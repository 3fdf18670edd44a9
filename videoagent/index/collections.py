"""Chroma collection names: one kind of vector from one model per collection."""

from __future__ import annotations

import re


def collection_name(kind: str, model_name: str) -> str:
    """Chroma collection for one kind of vector from one model (vectors of two models never mix)."""
    return f"{kind}_" + re.sub(r"[^A-Za-z0-9]+", "-", model_name).strip("-")
