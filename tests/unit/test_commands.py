"""The command table: parsing, who may run what, and the closest command to a typo."""

from bot.turns import registry
from bot.turns.registry import Place
from storage.models import Role


def test_every_declared_command_and_button_has_its_handler():
    for entry in (*registry.commands(), *registry.buttons()):
        assert callable(entry.handler), entry.name


def test_parse_lowercases_the_command_and_keeps_the_arguments():
    parsed = registry.parse("  Extend 5 minutes ")
    assert (parsed.name, parsed.arguments) == ("extend", "5 minutes")
    assert registry.parse("   ").name == ""


def test_someone_without_a_role_may_only_ask_for_help():
    assert [c.name for c in registry.available(frozenset(), Place.CHANNEL)] == ["help"]


def test_every_role_may_see_the_agenda_everywhere():
    for role in Role:
        for place in Place:
            names = [c.name for c in registry.available(frozenset({role}), place)]
            assert names[:2] == ["help", "agenda"], (role, place)


def test_referrals_and_triage_are_for_personal_chat_and_their_roles_only():
    def names(role: Role, place: Place) -> set[str]:
        return {c.name for c in registry.available(frozenset({role}), place)}

    assert {"refer", "triage", "import"} <= names(Role.COORDINATOR, Place.PERSONAL)
    assert "refer" in names(Role.AGENCY_REPRESENTATIVE, Place.PERSONAL)
    assert "triage" in names(Role.TRIAGE_MEMBER, Place.PERSONAL)
    assert names(Role.OBSERVER, Place.PERSONAL) == {"help", "agenda"}
    assert names(Role.CHAIR, Place.PERSONAL) == {"help", "agenda", "plan", "update", "hub",
                                                 "transfer", "complaint", "breach"}
    for place in (Place.CHANNEL, Place.MEETING, Place.GROUP_CHAT):
        assert names(Role.COORDINATOR, place) == {"help", "agenda", "publish", "register"}
        assert names(Role.AGENCY_REPRESENTATIVE, place) == {"help", "agenda"}


def test_a_name_declared_twice_is_refused():
    import pytest

    with pytest.raises(ValueError, match="declared twice"):
        registry.command("help", "Again.", "help", roles=None)(registry.find("help").handler)


def test_closest_names_the_nearest_command_or_help():
    listed = registry.available(frozenset({Role.CHAIR}), Place.CHANNEL)
    assert registry.closest("agnda", listed) == "agenda"
    assert registry.closest("xyzzy", listed) == "help"
    assert registry.closest("agnda", registry.available(frozenset(), Place.CHANNEL)) == "help"
