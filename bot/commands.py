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


PERSONAL_ONLY = frozenset({Place.PERSONAL})
REFERRERS = frozenset({Role.COORDINATOR, Role.AGENCY_REPRESENTATIVE})
TRIAGERS = frozenset({Role.COORDINATOR, Role.TRIAGE_MEMBER})
COORDINATORS = frozenset({Role.COORDINATOR})

COMMANDS: tuple[Command, ...] = (
    Command("help", "List the commands you can use here.", "help", roles=None),
    Command(
        "agenda",
        "Show the next meeting's agenda: case numbers, first names and slot times.",
        "agenda",
        roles=EVERY_ROLE,
    ),
    Command("refer", "Refer a case: the referral card with the DASH checklist.", "refer",
            roles=REFERRERS, places=PERSONAL_ONLY),
    Command("triage", "Accept, decline or query the referrals waiting for triage.", "triage",
            roles=TRIAGERS, places=PERSONAL_ONLY),
    Command("import", "Import the police feed: send me its CSV file here.", "import",
            roles=COORDINATORS, places=PERSONAL_ONLY),
    Command("publish", "Circulate the next meeting's case list to the agencies now.",
            "publish agenda", roles=COORDINATORS),
)

# Card buttons (Action.Execute verbs), checked against the same roles and places as commands.
CARD_ACTIONS: tuple[Command, ...] = (
    Command("referral.count", "Count the yes answers so far.", "", roles=REFERRERS,
            places=PERSONAL_ONLY),
    Command("referral.submit", "Submit a referral.", "", roles=REFERRERS, places=PERSONAL_ONLY),
    *(Command(f"triage.{verb}", f"Triage: {verb}.", "", roles=TRIAGERS, places=PERSONAL_ONLY)
      for verb in ("accept", "decline", "more", "same", "separate")),
)

_BY_NAME = {command.name: command for command in COMMANDS}
_ACTIONS_BY_VERB = {action.name: action for action in CARD_ACTIONS}


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


def find_action(verb: str) -> Command | None:
    return _ACTIONS_BY_VERB.get(verb)


def available(roles: frozenset[Role], place: Place) -> list[Command]:
    return [c for c in COMMANDS if c.allows(roles) and place in c.places]


def closest(name: str, candidates: list[Command]) -> str:
    """The command name nearest to a mistyped one; `help` when nothing is near."""
    names = [c.name for c in candidates]
    matches = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    return matches[0] if matches else "help"
