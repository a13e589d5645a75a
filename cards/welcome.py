"""The one card the bot posts when it is added to a team, chat or meeting."""

from __future__ import annotations

from adaptive_cards import card as ac

from cards.base import build, heading, paragraph


def welcome_card(marac_name: str | None) -> ac.AdaptiveCard:
    where = (
        f"I run the {marac_name} here." if marac_name
        else "This conversation is not yet registered to a MARAC; a coordinator can set it up."
    )
    return build([
        heading("MARAC bot"),
        paragraph(
            "I help run the Multi-Agency Risk Assessment Conference: referrals and the "
            "high-risk criteria, the agenda, attendance, each case's 20-minute slot, the "
            "action plan, and its dissemination within 48 hours."
        ),
        paragraph(where),
        paragraph("Cards in a shared channel show case numbers and first names only.",
                  subtle=True),
        paragraph("Type **help** (mention me in a channel) to see what you can do."),
    ])
