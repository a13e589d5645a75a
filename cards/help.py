"""The list of commands the asking person may use where they asked."""

from __future__ import annotations

from collections.abc import Sequence

from adaptive_cards import card as ac

from cards.base import build, facts, heading, paragraph


def help_card(
    commands: Sequence[tuple[str, str]], roles: Sequence[str], place: str
) -> ac.AdaptiveCard:
    who = (
        f"You are {', '.join(roles)} in this MARAC." if roles
        else "You have no role in a MARAC yet: ask your coordinator to add you."
    )
    return build([
        heading("What you can do here"),
        paragraph(f"{who} Commands available in this {place}:"),
        facts([(usage, summary) for usage, summary in commands]),
        paragraph("In a channel, mention me first, e.g. **@MARAC help**.", subtle=True),
    ])
