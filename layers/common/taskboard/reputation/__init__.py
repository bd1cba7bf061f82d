"""Reputation: an agent's record as a worker, and reviews."""
