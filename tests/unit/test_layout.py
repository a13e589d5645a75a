"""The rooms of the code keep to their jobs, read from the source itself: every button a card
can show is in the command table and served; botbuilder and its wire types stay in
bot/teams/ (a move to the Microsoft 365 Agents SDK touches one folder); cards draw what the
process hands them, not storage rows."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from bot.turns import registry

ROOT = Path(__file__).resolve().parents[2]
BOTBUILDER = ("botbuilder", "botframework", "msrest")



def _modules(folder: str) -> Iterator[tuple[str, ast.Module]]:
    for path in sorted((ROOT / folder).rglob("*.py")):
        yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(), str(path))


def _imports(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module


def _importing(folder: str, packages: tuple[str, ...]) -> set[str]:
    return {path for path, tree in _modules(folder)
            if any(name.split(".")[0] in packages for name in _imports(tree))}


def test_only_bot_teams_imports_botbuilder_botframework_or_msrest():
    outside = {path for path in _importing("bot", BOTBUILDER)
               if not path.startswith("bot/teams/")}
    for folder in ("cards", "dialogs", "storage"):
        outside |= _importing(folder, BOTBUILDER)
    assert outside == set()


def test_cards_do_not_import_storage():
    assert _importing("cards", ("storage",)) == set()


def _card_verbs() -> dict[str, str]:
    """Each verb an `execute(title, verb, ...)` in cards/ can emit, with where it is."""
    verbs = {}
    for path, tree in _modules("cards"):
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "execute"):
                verb = node.args[1]
                assert isinstance(verb, ast.Constant) and isinstance(verb.value, str), (
                    f"{path}:{node.lineno}: a button's verb must be written out")
                verbs[verb.value] = f"{path}:{node.lineno}"
    return verbs


def test_every_verb_a_card_emits_is_in_the_table_and_served():
    served = {button.name for button in registry.buttons() if callable(button.handler)}
    unknown = {verb: where for verb, where in _card_verbs().items() if verb not in served}
    assert unknown == {}


def test_every_button_in_the_table_is_on_a_card():
    assert {button.name for button in registry.buttons()} <= set(_card_verbs())
