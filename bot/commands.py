"""Every command the bot understands, declared once: who may run it and where.

The role check in `bot.handler` reads this table before any dialog runs, `help` lists from it,
and the Teams app manifest's command list is tested against it.
"""

from __future__ import annotations

import difflib
import enum
from dataclasses import dataclass

from storage.models import ConversationKind, Role

EVERY_ROLE = frozenset(Role)


class Place(enum.StrEnum):
    CHANNEL = "channel"
    MEETING = "meeting chat"
    GROUP_CHAT = "group chat"
    PERSONAL = "personal chat"

    @classmethod
    def of(cls, kind: ConversationKind) -> Place:
        return {
            ConversationKind.CHANNEL: cls.CHANNEL,
            ConversationKind.MEETING: cls.MEETING,
            ConversationKind.GROUP_CHAT: cls.GROUP_CHAT,
            ConversationKind.PERSONAL: cls.PERSONAL,
        }[kind]


EVERYWHERE = frozenset(Place)


@dataclass(frozen=True)
class Command:
    name: str
    summary: str
    usage: str
    roles: frozenset[Role] | None  # None: anyone, even someone the MARAC does not know yet
    places: frozenset[Place] = EVERYWHERE

    def allows(self, roles: frozenset[Role]) -> bool:
        return self.roles is None or bool(self.roles & roles)


COMMANDS: tuple[Command, ...] = (
    Command("help", "List the commands you can use here.", "help", roles=None),
    Command(
        "agenda",
        "Show the next meeting's agenda: case numbers, first names and slot times.",
        "agenda",
        roles=EVERY_ROLE,
    ),
)

_BY_NAME = {command.name: command for command in COMMANDS}


@dataclass(frozen=True)
class ParsedCommand:
    name: str
    arguments: str


def parse(text: str) -> ParsedCommand:
    """Split what someone typed (mentions already removed) into a command word and the rest."""
    words = text.strip().split(maxsplit=1)
    if not words:
        return ParsedCommand("", "")
    return ParsedCommand(words[0].lower(), words[1] if len(words) > 1 else "")


def find(name: str) -> Command | None:
    return _BY_NAME.get(name)


def available(roles: frozenset[Role], place: Place) -> list[Command]:
    return [c for c in COMMANDS if c.allows(roles) and place in c.places]


def closest(name: str, candidates: list[Command]) -> str:
    """The command name nearest to a mistyped one; `help` when nothing is near."""
    names = [c.name for c in candidates]
    matches = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    return matches[0] if matches else "help"
