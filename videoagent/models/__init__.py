"""Model roles: the registry (`registry.py`), where weights are (`weights.py`) and the model wrappers."""

from .registry import Models, roles

__all__ = ["Models", "roles"]
