"""Model roles: the registry (`registry.py`: ROLES, Models), where weights are (`weights.py`) and the
model wrappers."""

from .registry import ROLES, Models, roles

__all__ = ["ROLES", "Models", "roles"]
