"""Question answering: LLM backends, planners, grounding, chat sessions and the read-only tools."""
