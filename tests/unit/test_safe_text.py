"""Control characters people paste are made safe before any renderer sees them."""

import io

import pytest
from docx import Document

from dialogs.safe_text import safe_text, safe_value

PASTED = ["line one\x0bline two", "page\x0cbreak", "bell\x01", "escape\x1b[0m",
          "mirror\ufffe", "nul\x00", "lone \ud800 surrogate"]


@pytest.mark.parametrize("text", PASTED)
def test_pasted_control_characters_can_be_written_to_word(text):
    document = Document()
    document.add_paragraph(safe_text(text))  # raises ValueError for XML-invalid text
    document.save(io.BytesIO())


def test_breaks_become_new_lines_and_ordinary_text_is_kept():
    assert safe_text("a\x0bb\x0cc") == "a\nb\nc"
    assert safe_text("Tab\tnew\nline\r\n£ é — 😀") == "Tab\tnew\nline\r\n£ é — 😀"
    assert safe_text("\x01\x1b\ufffe") == ""


def test_every_string_of_a_card_press_is_made_safe():
    pressed = {"information": "A\x0bB", "n": 3, "list": ["x\x01", None], "k\x1b": True}
    assert safe_value(pressed) == {"information": "A\nB", "n": 3, "list": ["x", None],
                                   "k": True}
