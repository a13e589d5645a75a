"""What arrives at /api/messages, checked before anything else reads it (before the token
check too): a body that is JSON within limits, whose text is valid Unicode, and whose Teams
envelope has the shapes the bot reads. Anything else is a 400 with one sentence."""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32  # Teams' activities nest a dozen levels at most
MAX_DIGITS = 30  # no id or count the bot reads is longer


class BadEnvelope(ValueError):
    """Why the body is refused, in one sentence."""


def parse(raw: bytes) -> Any:
    """The body as JSON, or BadEnvelope."""
    try:
        text = raw.decode("utf-8")
        body = json.loads(text, parse_int=_whole, parse_float=_decimal)
    except UnicodeDecodeError as error:
        raise BadEnvelope("The body is not UTF-8 text.") from error
    except RecursionError as error:
        raise BadEnvelope("The body is nested too deeply.") from error
    except BadEnvelope:
        raise
    except ValueError as error:  # json.JSONDecodeError is one
        raise BadEnvelope("The body is not valid JSON.") from error
    _check_text_and_depth(body)
    return body


def _whole(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise BadEnvelope("The body holds a number too large for any field.")
    return int(text)


def _decimal(text: str) -> float:
    if len(text) > MAX_DIGITS * 2:
        raise BadEnvelope("The body holds a number too large for any field.")
    return float(text)


def _check_text_and_depth(body: Any) -> None:
    """Every string valid Unicode (no lone surrogates) and no deeper than MAX_DEPTH, walked
    without recursion."""
    waiting: list[tuple[Any, int]] = [(body, 0)]
    while waiting:
        value, depth = waiting.pop()
        if depth > MAX_DEPTH:
            raise BadEnvelope("The body is nested too deeply.")
        if isinstance(value, str):
            _valid_text(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                _valid_text(key)
                waiting.append((item, depth + 1))
        elif isinstance(value, list):
            waiting.extend((item, depth + 1) for item in value)


def _valid_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise BadEnvelope("The body holds text that is not valid Unicode.") from error


def check_shapes(body: dict[str, Any]) -> None:
    """The parts of a Teams activity the bot reads have the shapes Teams sends: channelData
    and its tenant, team, channel and meeting objects with string ids; entities objects; an
    invoke's name a string."""
    channel_data = body.get("channelData")
    if channel_data is not None:
        if not isinstance(channel_data, dict):
            raise BadEnvelope("channelData must be an object.")
        for part in ("tenant", "team", "channel", "meeting"):
            value = channel_data.get(part)
            if value is None:
                continue
            if not isinstance(value, dict) or not isinstance(value.get("id", ""), str):
                raise BadEnvelope(f"channelData.{part} must be an object with a text id.")
    entities = body.get("entities")
    if entities is not None and (not isinstance(entities, list) or not all(
            isinstance(e, dict) and isinstance(e.get("type"), str) for e in entities)):
        raise BadEnvelope("entities must be objects, each with a type.")
    if body.get("type") == "invoke" and not isinstance(body.get("name"), str):
        raise BadEnvelope("An invoke must be named.")
    for part in ("from", "recipient", "conversation"):  # not objects: no activity (bot.app)
        value = body.get(part)
        if isinstance(value, dict):
            for key in ("id", "aadObjectId", "tenantId", "conversationType"):
                if value.get(key) is not None and not isinstance(value.get(key), str):
                    raise BadEnvelope(f"{part}.{key} must be text.")
