"""First names only: what a first-name field accepts, and what a shared card shows of one.

A victim's or perpetrator's first name is one word of letters (a hyphen or apostrophe inside
it allowed: "Mary-Jane", "D'Arcy"); anything more could be a surname, and a surname in a shared
channel identifies."""

from __future__ import annotations

import re

# One word: letters, with single hyphens or apostrophes between them.
_ONE_NAME = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def is_first_name(text: str) -> bool:
    return _ONE_NAME.fullmatch(text) is not None


def refusal(label: str) -> str:
    return f"Give {label} only, as one word (a first name, no surname or initials)."


def shown(name: str) -> str:
    """What a shared card shows of a stored first name: its first word, whatever was kept
    before the one-word rule."""
    words = name.split()
    return words[0] if words else ""
