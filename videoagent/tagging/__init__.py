"""Bulk tagging: tag libraries, recall channels, the ranker."""
