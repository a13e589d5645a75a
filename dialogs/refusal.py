"""The one kind of error a step of the MARAC raises when it will not do what was asked: its
message is the one sentence the person is told, and nothing it began is kept."""

from __future__ import annotations


class Refusal(ValueError):
    """Why this cannot be done, in one sentence for the person who asked."""
