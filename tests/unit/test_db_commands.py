"""`marac db current` and `marac db downgrade`, on a real SQLite file: the revision is shown
against the one the code expects, and a revision that does not exist is refused in one
sentence with nothing changed."""

from __future__ import annotations

from bot.cli import main
from storage.migrate import head


def test_current_and_downgrade_walk_the_schema_back_and_forth(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'marac.db'}")
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    assert main(["db", "current"]) == 1
    assert "no revision (empty)" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "current"]) == 0
    assert capsys.readouterr().out.endswith(f"The database is at {head()}; this version of "
                                            f"the bot expects {head()}.\n")
    assert main(["db", "downgrade", "-1"]) == 0
    assert main(["db", "current"]) == 1
    assert "expects" in capsys.readouterr().out
    assert main(["db", "downgrade", "no-such-revision"]) == 2
    assert capsys.readouterr().err == ("marac: cannot downgrade to 'no-such-revision': Can't "
                                       "locate revision identified by 'no-such-revision'.\n")
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "current"]) == 0
