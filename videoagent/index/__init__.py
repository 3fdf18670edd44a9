"""The index: the store (SQLite catalog + Chroma), its read-only view, collection names, retrieval."""
