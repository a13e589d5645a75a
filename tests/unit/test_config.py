"""Configuration mistakes stop start-up with one plain sentence."""

import pytest

from bot.config import ConfigurationError, Settings
from bot.ops import cli
from bot.ops.cli import main
from storage.migrate import upgrade


def test_defaults_are_local_and_anonymous():
    settings = Settings.from_env({})
    assert (settings.host, settings.port, settings.anonymous) == ("127.0.0.1", 3978, True)
    assert settings.database_url == "sqlite+aiosqlite:///marac.db"


@pytest.mark.parametrize(("env", "sentence"), [
    ({"PORT": "eighty"}, "PORT must be a number"),
    ({"MicrosoftAppId": "abc"}, "MicrosoftAppPassword is empty"),
    ({"MicrosoftAppType": "Tenantless"}, "MicrosoftAppType must be one of"),
    ({"MicrosoftAppType": "SingleTenant"}, "needs MicrosoftAppTenantId"),
    ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL must start with"),
    ({"DATABASE_URL": "not a url"}, "DATABASE_URL is not a database URL"),
    ({"LOG_LEVEL": "loud"}, "LOG_LEVEL 'LOUD' is not a logging level"),
    ({"MicrosoftAppId": "abc", "MicrosoftAppPassword": "x"}, "set MARAC_ENCRYPTION_KEYS"),
    ({"MARAC_ENCRYPTION_KEYS": "not-a-key"}, "must be Fernet keys"),
    ({"TIMER_SECONDS": "soon"}, "TIMER_SECONDS must be from 0 to 3600"),
])
def test_a_misconfiguration_is_one_sentence(env, sentence):
    with pytest.raises(ConfigurationError, match=sentence):
        Settings.from_env(env)


def test_the_console_command_prints_the_sentence_not_a_traceback(monkeypatch, capsys):
    monkeypatch.setenv("PORT", "99999")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err == "marac: PORT must be a number from 1 to 65535, not '99999'.\n"


def test_serve_refuses_a_database_that_was_never_migrated(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    assert main(["serve", "--port", "3990"]) == 2
    assert "run `marac db upgrade` first" in capsys.readouterr().err


def test_serve_refuses_a_read_only_database_in_one_sentence(monkeypatch, tmp_path, capsys):
    """The database file opened read-only, as SQLite opens a file it may not write (the
    tests run as root, whom file modes do not stop)."""
    path = tmp_path / "marac.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true")
    monkeypatch.setattr(cli.web, "run_app", lambda *_, **__: pytest.fail("served it"))
    assert main(["serve", "--port", "3990"]) == 2
    err = capsys.readouterr().err
    assert err == ("marac: the database cannot be written (attempt to write a readonly "
                   "database); check its file or disk, then start again.\n")


@pytest.mark.parametrize("command", [["--help"], ["serve", "--help"], ["db", "upgrade", "--help"],
                                     ["demo", "--help"], ["dev", "--help"],
                                     ["package", "--help"]])
def test_every_command_explains_itself(command, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(command)
    assert stopped.value.code == 0
    assert "usage: marac" in capsys.readouterr().out


def test_the_first_coordinator_is_added_from_the_cli(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'marac.db'}")
    assert main(["demo"]) == 0
    add = ["add-person", "--marac", "Riverside MARAC", "--tenant", "t1", "--aad-object-id",
           "a1", "--first-name", "Dee", "--role", "coordinator"]
    assert main(add) == 0
    assert main(add) == 0
    assert main([*add[:-1], "boss"]) == 2
    out = capsys.readouterr()
    assert "Dee is now coordinator of Riverside MARAC." in out.out
    assert "Dee already was coordinator of Riverside MARAC." in out.out
    assert out.err.startswith("marac: 'boss' is not a role")
