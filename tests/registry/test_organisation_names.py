"""The issuing body's full names in Kazakh and Russian: `qujat token create --org-name-kk/-ru`,
`qujat org set` and `qujat org list`, each name checked (blank or too long: the option named).
Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from click.testing import CliRunner, Result
from sqlalchemy import select

from service.cli import main
from service.core.db import Database
from service.registry.models import Organisation

KK = "Қарағанды облысының білім басқармасы"
RU = "Управление образования Карагандинской области"


def run(runner: CliRunner, env: dict[str, str], *args: str) -> Result:
    return runner.invoke(main, list(args), env=env, catch_exceptions=False)


def names(database: Database, code: str) -> tuple[str, str | None, str | None]:
    with database.read() as session:
        row = session.scalars(select(Organisation).where(Organisation.code == code)).one()
        return row.name, row.name_kk, row.name_ru


def test_token_create_records_both_names_and_org_set_changes_them(
    runner: CliRunner, cli_env: dict[str, str], database: Database
) -> None:
    created = run(
        runner,
        cli_env,
        "token",
        "create",
        "--org",
        "KRG",
        "--org-name-kk",
        f"  {KK} ",
        "--org-name-ru",
        RU,
    )
    assert created.exit_code == 0, created.output
    assert names(database, "KRG") == (KK, KK, RU)  # spaces trimmed; `name` from the first
    # a second token for the same body keeps the names it is not given
    again = run(runner, cli_env, "token", "create", "--org", "KRG")
    assert again.exit_code == 0, again.output
    assert names(database, "KRG") == (KK, KK, RU)
    changed = run(runner, cli_env, "org", "set", "KRG", "--name-ru", "Управление образования")
    assert changed.exit_code == 0, changed.output
    assert names(database, "KRG") == (KK, KK, "Управление образования")
    listed = run(runner, cli_env, "org", "list")
    assert listed.output == f"KRG\t{KK}\tУправление образования\n"


def test_bad_names_and_unknown_bodies_are_refused_with_the_option_named(
    runner: CliRunner, cli_env: dict[str, str], database: Database
) -> None:
    blank = run(runner, cli_env, "token", "create", "--org", "KRG", "--org-name-kk", "  ")
    assert blank.exit_code == 2
    assert "--org-name-kk" in blank.output
    assert "blank" in blank.output
    long = run(runner, cli_env, "token", "create", "--org", "KRG", "--org-name-ru", "я" * 301)
    assert long.exit_code == 2
    assert "--org-name-ru" in long.output
    assert "at most 300" in long.output
    unknown = run(runner, cli_env, "org", "set", "ABC", "--name-kk", KK)
    assert unknown.exit_code == 2
    assert "there is no issuing body 'ABC'" in unknown.output
    nothing = run(runner, cli_env, "org", "set", "KRG")
    assert nothing.exit_code == 2
    assert "--name-kk" in nothing.output
    with database.read() as session:  # nothing was created by the refused commands
        assert session.scalars(select(Organisation)).all() == []
