"""The command table: parsing, who may run what, and the closest command to a typo."""

from bot import commands
from bot.commands import COMMANDS, Place
from bot.router import HANDLERS
from storage.models import Role


def test_every_declared_command_has_a_handler_and_nothing_else_does():
    assert set(HANDLERS) == {command.name for command in COMMANDS}


def test_parse_lowercases_the_command_and_keeps_the_arguments():
    parsed = commands.parse("  Extend 5 minutes ")
    assert (parsed.name, parsed.arguments) == ("extend", "5 minutes")
    assert commands.parse("   ").name == ""


def test_someone_without_a_role_may_only_ask_for_help():
    assert [c.name for c in commands.available(frozenset(), Place.CHANNEL)] == ["help"]


def test_every_role_may_see_the_agenda_everywhere():
    for role in Role:
        for place in Place:
            names = [c.name for c in commands.available(frozenset({role}), place)]
            assert names[:2] == ["help", "agenda"], (role, place)


def test_referrals_and_triage_are_for_personal_chat_and_their_roles_only():
    def names(role: Role, place: Place) -> set[str]:
        return {c.name for c in commands.available(frozenset({role}), place)}

    assert {"refer", "triage", "import"} <= names(Role.COORDINATOR, Place.PERSONAL)
    assert "refer" in names(Role.AGENCY_REPRESENTATIVE, Place.PERSONAL)
    assert "triage" in names(Role.TRIAGE_MEMBER, Place.PERSONAL)
    assert names(Role.OBSERVER, Place.PERSONAL) == {"help", "agenda"}
    assert names(Role.CHAIR, Place.PERSONAL) == {"help", "agenda", "plan", "update"}
    for place in (Place.CHANNEL, Place.MEETING, Place.GROUP_CHAT):
        assert names(Role.COORDINATOR, place) == {"help", "agenda", "publish", "register"}
        assert names(Role.AGENCY_REPRESENTATIVE, place) == {"help", "agenda"}


def test_every_card_button_is_declared_and_handled():
    from bot.card_actions import BUTTONS

    assert set(BUTTONS) == {action.name for action in commands.CARD_ACTIONS}


def test_closest_names_the_nearest_command_or_help():
    listed = commands.available(frozenset({Role.CHAIR}), Place.CHANNEL)
    assert commands.closest("agnda", listed) == "agenda"
    assert commands.closest("xyzzy", listed) == "help"
    assert commands.closest("agnda", commands.available(frozenset(), Place.CHANNEL)) == "help"
