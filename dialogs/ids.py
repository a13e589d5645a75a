"""A row id named in a card's data: a whole number as Teams sends it (a number or its digits),
never more than a database integer holds; anything else is no id at all."""

from __future__ import annotations

MOST_DIGITS = 9  # below 2**31, the smallest integer column the databases have


def row_id(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    text = str(value)
    if not (text.isascii() and text.isdigit() and len(text) <= MOST_DIGITS):
        return None
    return int(text)
