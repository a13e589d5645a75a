"""The victim's voice on the referral (SafeLives' referral form asks it, and the chair needs it
at the meeting): whether the victim knows of the referral, a safe way and time to contact them
and what must be avoided, an interpreter and the language, the IDVA allocated, and what the
victim wants from the MARAC. Every field is optional; together they are stored encrypted at
rest (storage.models.Referral.victim_voice) and shown only in personal chat and on the full
case view, never on a shared card."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dialogs.refusal import Refusal


@dataclass(frozen=True)
class VoiceField:
    key: str  # the card input's id, and the key it is stored under
    label: str
    limit: int = 300
    choices: tuple[str, ...] = ()


VOICE = (
    VoiceField("voice_aware", "Victim aware of the referral", choices=("Yes", "No", "Not known")),
    VoiceField("voice_contact_how", "Safe way to contact the victim"),
    VoiceField("voice_contact_when", "Safe time to contact the victim", 200),
    VoiceField("voice_contact_avoid", "What must be avoided when contacting the victim"),
    VoiceField("voice_interpreter", "Interpreter needed", choices=("Yes", "No")),
    VoiceField("voice_language", "Language", 60),
    VoiceField("voice_idva", "IDVA allocated", 100),
    VoiceField("voice_wants", "What the victim wants from the MARAC", 2000),
)


class VoiceError(Refusal):
    """A victim's-voice answer that cannot be taken; str() is one plain sentence."""


def read_voice(raw: Mapping[str, object]) -> dict[str, str]:
    """The fields given, each checked; those left empty are left out."""
    voice = {}
    for field in VOICE:
        value = raw.get(field.key)
        text = " ".join(str(value).split()) if isinstance(value, str | int) else ""
        if not text:
            continue
        if field.choices and text not in field.choices:
            raise VoiceError(f"Choose {field.label.lower()} from the list.")
        if len(text) > field.limit:
            raise VoiceError(f"{field.label} is longer than {field.limit} characters.")
        voice[field.key] = text
    return voice


def voice_lines(voice: Mapping[str, str] | None) -> list[tuple[str, str]]:
    """(label, answer) for each field answered, in the form's order."""
    given = voice or {}
    return [(field.label, given[field.key]) for field in VOICE if given.get(field.key)]
