"""`marac db current` and `marac db downgrade`, on a real SQLite file: the revision is shown
against the one the code expects, and a revision that does not exist is refused in one
sentence with nothing changed."""

from __future__ import annotations

from bot.ops.cli import main
from storage import crypto
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


def test_check_keys_says_whether_the_keys_open_the_data(monkeypatch, tmp_path, capsys):
    from cryptography.fernet import Fernet

    key, other = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'marac.db'}")
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.setenv("MARAC_INDEX_KEY", "index-key-for-the-test")
    monkeypatch.setenv("MARAC_ENCRYPTION_KEYS", key)
    assert main(["demo"]) == 0
    assert main(["db", "check-keys"]) == 0
    assert "The configured keys decrypt all" in capsys.readouterr().out
    monkeypatch.setenv("MARAC_ENCRYPTION_KEYS", other)
    assert main(["db", "check-keys"]) == 1
    assert "stored values cannot be decrypted with the configured keys." in (
        capsys.readouterr().err)
    monkeypatch.setenv("MARAC_ENCRYPTION_KEYS", f"{other},{key}")  # a rotation under way
    try:
        assert main(["db", "check-keys"]) == 0
    finally:  # the keyring is the process's: give the other tests back the development key
        crypto.configure([crypto.DEVELOPMENT_KEY], crypto.DEVELOPMENT_INDEX_KEY)
