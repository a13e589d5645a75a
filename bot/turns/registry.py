"""Every command and card button the bot understands: who may use it, where, and the code
that serves it. Each is declared beside its code with `@command` or `@button` (bot.features);
this module collects them into the one table that the role check (bot.turns.access), `help`,
the README and the Teams app manifest read.
"""

from __future__ import annotations

import difflib
import enum
import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from dialogs.actor import CASE_PAPER_ROLES
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
Handler = Callable[[Any], Awaitable[Any]]
Refused = Callable[[Any, Any], Awaitable[Any]]  # (press, the dialogs.refusal.Refusal)
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True)
class Command:
    name: str
    summary: str
    usage: str
    roles: frozenset[Role] | None  # None: anyone, even someone the MARAC does not know yet
    places: frozenset[Place] = EVERYWHERE
    menu: bool = True  # listed in Teams' command menu (at most 10 per scope)
    # Usable where the conversation is no MARAC's yet, by the roles held in any MARAC.
    before_registration: bool = False
    # What serves it: a bot.turns.request.Request (command) or bot.turns.press.Press (button).
    handler: Handler | None = None
    # A button's answer when its handler refuses (the pipeline's default: the reason alone).
    refused: Refused | None = None
    title: str = ""  # what the command menu shows and types, where not the name alone
    # The handler refuses only before it writes anything, so the pipeline runs it without a
    # savepoint to undo (two statements fewer a turn).
    checks_first: bool = False

    @property
    def menu_title(self) -> str:
        return self.title or self.name

    def allows(self, roles: frozenset[Role]) -> bool:
        return self.roles is None or bool(self.roles & roles)


PERSONAL_ONLY = frozenset({Place.PERSONAL})
REFERRERS = frozenset({Role.COORDINATOR, Role.AGENCY_REPRESENTATIVE})
TRIAGERS = frozenset({Role.COORDINATOR, Role.TRIAGE_MEMBER})
COORDINATORS = frozenset({Role.COORDINATOR})
MANAGERS = frozenset({Role.OPERATIONS_MANAGER})
REPRESENTATIVES = frozenset({Role.AGENCY_REPRESENTATIVE})
CHAIRS = frozenset({Role.CHAIR})  # and the stand-in the chair names (bot.turns.access)
PLANNERS = frozenset({Role.AGENCY_REPRESENTATIVE, Role.CHAIR, Role.COORDINATOR})
PLAN_READERS = CASE_PAPER_ROLES  # observers get no case papers
MEETING_PLACES = frozenset({Place.CHANNEL, Place.MEETING, Place.GROUP_CHAT})

_COMMANDS: dict[str, Command] = {}
_BUTTONS: dict[str, Command] = {}
FEATURES = "bot.features"  # importing it declares every command and button


def command(name: str, summary: str, usage: str, *, roles: frozenset[Role] | None,
            places: frozenset[Place] = EVERYWHERE, menu: bool = True,
            before_registration: bool = False, title: str = "", checks_first: bool = False
            ) -> Callable[[H], H]:
    """Declare a typed command served by the decorated handler."""
    def declare(handler: H) -> H:
        _add(_COMMANDS, Command(name, summary, usage, roles, places, menu,
                                before_registration, handler, title=title,
                                checks_first=checks_first))
        return handler
    return declare


def button(verb: str, summary: str, *, roles: frozenset[Role], places: frozenset[Place],
           refused: Refused | None = None, checks_first: bool = False) -> Callable[[H], H]:
    """Declare a card button (an Action.Execute verb) served by the decorated handler."""
    def declare(handler: H) -> H:
        _add(_BUTTONS, Command(verb, summary, "", roles, places, menu=False, handler=handler,
                               refused=refused, checks_first=checks_first))
        return handler
    return declare


def _add(table: dict[str, Command], entry: Command) -> None:
    if entry.name in table:
        raise ValueError(f"{entry.name!r} is declared twice.")
    table[entry.name] = entry


def commands() -> tuple[Command, ...]:
    importlib.import_module(FEATURES)
    return tuple(_COMMANDS.values())


def buttons() -> tuple[Command, ...]:
    importlib.import_module(FEATURES)
    return tuple(_BUTTONS.values())


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
    importlib.import_module(FEATURES)
    return _COMMANDS.get(name)


def find_button(verb: str) -> Command | None:
    importlib.import_module(FEATURES)
    return _BUTTONS.get(verb)


def available(roles: frozenset[Role], place: Place) -> list[Command]:
    return [c for c in commands() if c.allows(roles) and place in c.places]


def closest(name: str, candidates: list[Command]) -> str:
    """The command name nearest to a mistyped one; `help` when nothing is near."""
    names = [c.name for c in candidates]
    matches = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    return matches[0] if matches else "help"


def as_markdown() -> str:
    """The README's table of every command and card button: who may use it, and where."""
    def who(command: Command) -> str:
        if command.roles is None:
            return "anyone"
        if command.roles == EVERY_ROLE:
            return "anyone with a role in the MARAC"
        return ", ".join(sorted(role.label for role in command.roles))

    def where(command: Command) -> str:
        return "everywhere" if command.places == EVERYWHERE else ", ".join(
            sorted(place.value for place in command.places))

    rows = ["| command or button | who | where | what |", "| --- | --- | --- | --- |"]
    rows += [f"| `{c.usage}` | {who(c)} | {where(c)} | {c.summary} |" for c in commands()]
    rows += [f"| button `{c.name}` | {who(c)} | {where(c)} | {c.summary} |"
             for c in buttons()]
    return "\n".join(rows)
