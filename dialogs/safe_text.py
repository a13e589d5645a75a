"""Text made safe for every renderer: Word (XML 1.0), Adaptive Cards and email refuse
control characters that people paste without seeing them (Word's soft line break \\x0b, a
form feed, an escape, a byte-order mark's mirror \\ufffe). Applied where text comes in: each
activity's typed text and card inputs (bot.handler), police feed rows, and a stored plan as
it is read back (one stored before this rule existed)."""

from __future__ import annotations

import re
from typing import Any

_BREAKS = re.compile("[\x0b\x0c\u2028\u2029]")  # soft line break, page break: a new line
_INVALID = re.compile("[\x00-\x08\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def safe_text(text: str) -> str:
    """Line and page breaks as new lines; other characters XML cannot hold removed."""
    return _INVALID.sub("", _BREAKS.sub("\n", text))


def safe_value(value: Any) -> Any:
    """Every string inside a JSON-like value made safe; the rest as it was."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {safe_value(k): safe_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(safe_value(v) for v in value)
    return value
