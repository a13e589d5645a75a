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
    menu: bool = True  # listed in Teams' command menu (at most 10 per scope)
    # Usable where the conversation is no MARAC's yet, by the roles held in any MARAC.
    before_registration: bool = False
    title: str = ""  # what the command menu shows and types, where not the name alone

    @property
    def menu_title(self) -> str:
        return self.title or self.name

    def allows(self, roles: frozenset[Role]) -> bool:
        return self.roles is None or bool(self.roles & roles)


PERSONAL_ONLY = frozenset({Place.PERSONAL})
REFERRERS = frozenset({Role.COORDINATOR, Role.AGENCY_REPRESENTATIVE})
TRIAGERS = frozenset({Role.COORDINATOR, Role.TRIAGE_MEMBER})
COORDINATORS = frozenset({Role.COORDINATOR})
CHAIRS = frozenset({Role.CHAIR})  # and the stand-in the chair names (bot.access)
PLANNERS = frozenset({Role.AGENCY_REPRESENTATIVE, Role.CHAIR, Role.COORDINATOR})
PLAN_READERS = EVERY_ROLE - {Role.OBSERVER}  # observers get no case papers
MEETING_PLACES = frozenset({Place.CHANNEL, Place.MEETING, Place.GROUP_CHAT})

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
    Command("register", "Make this channel or chat your MARAC's, so that the bot works here.",
            "register [MARAC NAME]", roles=COORDINATORS, places=MEETING_PLACES, menu=False,
            before_registration=True),
    Command("people", "List this MARAC's people and their roles.", "people",
            roles=COORDINATORS, places=PERSONAL_ONLY, menu=False),
    Command("grant", "Give someone a role in this MARAC.", "grant ROLE FIRSTNAME",
            roles=COORDINATORS, places=PERSONAL_ONLY, menu=False),
    Command("revoke", "Take a role away from someone.", "revoke ROLE FIRSTNAME",
            roles=COORDINATORS, places=PERSONAL_ONLY, menu=False),
    Command("audit", "Show a case's audit trail: every view, change and refusal.",
            "audit CASE", roles=frozenset({Role.OPERATIONS_MANAGER}), places=PERSONAL_ONLY,
            menu=False),
    Command("sar", "Everything held about a victim, redacted, for a subject access request.",
            "sar REFERENCE", roles=frozenset({Role.OPERATIONS_MANAGER}),
            places=PERSONAL_ONLY, menu=False),
    Command("decide", "Decide on a declaration of knowing someone in a case.",
            "decide CASE DECISION", roles=frozenset({Role.OPERATIONS_MANAGER}), menu=False),
    *(Command(name, summary, usage, roles=CHAIRS, places=MEETING_PLACES, menu=menu)
      for name, summary, usage, menu in (
          ("start", "Open the meeting: the agenda and the attendance card.", "start", True),
          ("next", "Close this case's planning and open the next case.", "next", True),
          ("back", "Reopen the case heard before this one.", "back", False),
          ("extend", "Give the open case more minutes.", "extend MINUTES", False),
          ("defer", "Move the open case to the next meeting, with the reason.",
           "defer REASON", False),
          ("pause", "Pause the meeting and its slot clock.", "pause", False),
          ("resume", "Resume the meeting.", "resume", False),
          ("exceptional", "Mark the open case exceptional: death, or moved out of area.",
           "exceptional death/moved NOTE", False),
          ("standin", "Name who may advance the agenda for you.", "standin FIRSTNAME", False),
          ("admit", "Admit someone to the open closed-panel case.", "admit FIRSTNAME", False),
          ("end", "Close the meeting and post its summary.", "end", True),
      )),
    # After the meeting: the plan, its dissemination and the actions (bot.plan_actions).
    Command("plan", "Show a case's current action plan, or export it as a document.",
            "plan CASE [export]", roles=PLAN_READERS, places=PERSONAL_ONLY),
    Command("dissemination", "What each plan's dissemination has sent, and the time left.",
            "dissemination", roles=COORDINATORS, places=PERSONAL_ONLY),
    Command("my", "List your open actions across cases.", "my actions",
            roles=REFERRERS, places=PERSONAL_ONLY, title="my actions"),
    Command("update", "Add new information to a case's plan after the meeting.",
            "update CASE", roles=PLANNERS, places=PERSONAL_ONLY, menu=False),
)

# Card buttons (Action.Execute verbs), checked against the same roles and places as commands.
CARD_ACTIONS: tuple[Command, ...] = (
    Command("referral.count", "Count the yes answers so far.", "", roles=REFERRERS,
            places=PERSONAL_ONLY),
    Command("referral.submit", "Submit a referral.", "", roles=REFERRERS, places=PERSONAL_ONLY),
    *(Command(f"triage.{verb}", summary, "", roles=TRIAGERS, places=PERSONAL_ONLY)
      for verb, summary in (
          ("accept", "Accept a referral: it is listed at a meeting."),
          ("decline", "Decline a referral, with the reason."),
          ("more", "Ask for more information on a referral."),
          ("same", "Confirm a possible duplicate as the same matter."),
          ("separate", "Keep a possible duplicate as a separate referral."),
      )),
    Command("attendance.confirm", "Confirm attendance.", "", roles=EVERY_ROLE,
            places=MEETING_PLACES),
    Command("attendance.declare", "Declare knowing someone in a case.", "", roles=EVERY_ROLE,
            places=MEETING_PLACES),
    Command("case.view", "Show a case in full (to those entitled).", "", roles=EVERY_ROLE,
            places=MEETING_PLACES),
    Command("case.information", "Share an agency's information.", "",
            roles=frozenset({Role.AGENCY_REPRESENTATIVE}), places=MEETING_PLACES),
    Command("case.action", "Add an action.", "", roles=PLANNERS, places=MEETING_PLACES),
    Command("case.contact", "Name who updates the victim.", "", roles=CHAIRS,
            places=MEETING_PLACES),
    *(Command(f"action.{verb}", summary, "", roles=REFERRERS, places=PERSONAL_ONLY)
      for verb, summary in (
          ("acknowledge", "Acknowledge an action you own."),
          ("done", "Mark your action done, with a note."),
          ("cannot", "Say your action cannot be completed, with the reason."),
      )),
    Command("plan.update", "Add new information to a plan.", "", roles=PLANNERS,
            places=PERSONAL_ONLY),
    Command("sar.export", "Export a subject access record as reviewed.", "",
            roles=frozenset({Role.OPERATIONS_MANAGER}), places=PERSONAL_ONLY),
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
    rows += [f"| `{c.usage}` | {who(c)} | {where(c)} | {c.summary} |" for c in COMMANDS]
    rows += [f"| button `{c.name}` | {who(c)} | {where(c)} | {c.summary} |"
             for c in CARD_ACTIONS]
    return "\n".join(rows)
