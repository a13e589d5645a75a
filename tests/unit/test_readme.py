"""The README's table of commands and buttons is the command table, so they cannot drift."""

from pathlib import Path

from bot.turns.registry import as_markdown

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_lists_every_command_and_button_as_the_code_declares_them():
    assert as_markdown() in README.read_text(), (
        "README.md is out of date: run scripts/sync-readme-commands")
