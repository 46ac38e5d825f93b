"""Tamper evidence beyond the audit table: every row that makes a document what it is is sealed
into the audit chain, and `qujat audit verify` names each edited, deleted or inserted row.

The registry is built through the API (a commission, its protocol signed by everyone present,
certificates, one revoked, one superseded), then changed the way an intruder would: straight in
the database, behind the service's back. Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Table, insert, select, text, update

from service.cli import main
from service.core.config import Settings
from service.core.db import Database, alembic_config, upgrade
from service.core.models import GENESIS_HASH
from service.registry.audit import entry_hash
from service.registry.issuing import RegistrationNumber, parse_registration_number
from service.registry.models import AuditEntry, AuditHead, Document
from service.registry.seals import UnsealedWrite
from service.signatures.models import SigningState
from tests.conftest import NOW
from tests.signatures.support import (
    PRESENT,
    SECRETARY,
    SigningPKI,
    create_commission,
    create_protocol,
    sign,
    signing_pki,
)

__all__ = ["signing_pki"]  # the session fixture, imported for pytest

Example = Callable[..., dict[str, Any]]


@pytest.fixture
def settings(tmp_path: Path, database_url: str, signing_pki: SigningPKI) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url,
                    trust_dir=signing_pki.directory)


@dataclass(frozen=True)
class Registry:
    protocol: dict[str, Any]
    certificates: list[dict[str, Any]]
    revoked: dict[str, Any]


def build(client: FlaskClient, example: Example, signing_pki: SigningPKI) -> Registry:
    protocol = create_protocol(client, create_commission(client))
    for iin in [*PRESENT, SECRETARY]:
        assert sign(client, protocol["id"], signing_pki.key(iin)).status_code == 201
    certificates = []
    for i in range(3):
        body = example("certificate", "kk")
        body["decision"]["decision_id"] = f"seal-{i}"
        response = client.post("/api/v1/documents", json=body)
        assert response.status_code == 201, response.get_json()
        certificates.append(response.get_json())
    replacement = example("certificate", "kk")
    replacement["decision"]["decision_id"] = "seal-replacement"
    replacement["supersedes"] = certificates[2]["id"]
    assert client.post("/api/v1/documents", json=replacement).status_code == 201
    today = NOW.date().isoformat()
    revoked = certificates[1]
    response = client.post(f"/api/v1/documents/{revoked['id']}/revocation", json={
        "reason": "Апелляция комиссиясының шешімі", "act": {"number": "А-17", "date": today}})
    assert response.status_code in (200, 201), response.get_json()
    return Registry(protocol, certificates, revoked)


def verify(runner: CliRunner, env: dict[str, str]) -> Result:
    return runner.invoke(main, ["audit", "verify"], env=env)


def execute(database: Database, statement: Any, **parameters: Any) -> None:
    """Straight in the database, as an intruder would: no session, no audit entry."""
    with database.engine.begin() as connection:
        if isinstance(statement, str):
            connection.execute(text(statement), parameters)
        else:
            connection.execute(statement)


def db_id(database: Database, value: str) -> str:
    """How a UUID column holds `value` in raw SQL (32 hex digits on SQLite)."""
    return uuid.UUID(value).hex if database.dialect == "sqlite" else value


def test_an_untouched_registry_verifies(
    client: FlaskClient, runner: CliRunner, cli_env: dict[str, str], example: Example,
    signing_pki: SigningPKI,
) -> None:
    build(client, example, signing_pki)
    result = verify(runner, cli_env)
    assert result.exit_code == 0, result.stderr
    assert "audit trail intact" in result.stdout
    # every row compared: 5 documents (the protocol, 3 certificates, the replacement) with
    # their facts and signing states, the protocol's 7 signers and signatures and each
    # certificate's head of organisation, a revocation, a supersession, the commission
    rows = int(result.stdout.split("registry rows sealed: ")[1].split(",")[0])
    assert rows == 5 + 5 + 5 + (7 + 4) + 7 + 1 + 1 + 1


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        ("registration_number", "documents row {cert0} of document {cert0_number} ({cert0}) "
         "was edited: registration_number changed"),
        ("status", "documents row {cert0} of document {cert0_number} ({cert0}) was edited: "
         "status changed"),
        ("facts", "document_facts row {cert0} of document {cert0_number} ({cert0}) was "
         "edited: surname changed"),
        ("signature", "signatures row {protocol}/{secretary} of document {protocol_number} "
         "({protocol}) was deleted"),
        ("revocation", "revocations row {revoked} of document {revoked_number} ({revoked}) "
         "was edited: reason changed"),
        ("signed_at", "signing_states row {protocol} of document {protocol_number} "
         "({protocol}) was edited: signed_at changed"),
        ("forged", "documents row {forged} of document {forged_number} ({forged}) has no seal "
         "in the audit trail"),
    ],
)
def test_audit_verify_names_each_tampered_row(
    client: FlaskClient, database: Database, runner: CliRunner, cli_env: dict[str, str],
    example: Example, signing_pki: SigningPKI, tamper: str, expected: str,
) -> None:
    registry = build(client, example, signing_pki)
    certificate = registry.certificates[0]
    documents = Document.__table__
    assert isinstance(documents, Table)
    forged_id = str(uuid.uuid4())
    number = parse_registration_number(certificate["registration_number"])
    forged_number = str(RegistrationNumber(number.appendix, number.organisation, number.year,
                                           900_000))
    match tamper:
        case "registration_number":
            execute(database, update(documents).where(documents.c.id == uuid.UUID(
                certificate["id"])).values(registration_number=forged_number))
        case "status":
            execute(database, "UPDATE documents SET status = 'pending' WHERE id = :id",
                    id=db_id(database, certificate["id"]))
        case "facts":
            execute(database, "UPDATE document_facts SET surname = 'Жалған' "
                    "WHERE document_id = :id", id=db_id(database, certificate["id"]))
        case "signature":
            execute(database, "DELETE FROM signatures WHERE document_id = :id AND iin = :iin",
                    id=db_id(database, registry.protocol["id"]), iin=SECRETARY)
        case "revocation":
            execute(database, "UPDATE revocations SET reason = 'қате' WHERE document_id = :id",
                    id=db_id(database, registry.revoked["id"]))
        case "signed_at":
            signing = SigningState.__table__
            assert isinstance(signing, Table)
            execute(database, update(signing).where(signing.c.document_id == uuid.UUID(
                registry.protocol["id"])).values(signed_at=None))
        case "forged":
            with database.read() as session:
                row = dict(session.execute(select(documents).where(
                    documents.c.id == uuid.UUID(certificate["id"]))).one()._mapping)
            row.update(id=uuid.UUID(forged_id), registration_number=forged_number,
                       decision_id="forged", seq=900_000)
            execute(database, insert(documents).values(**row))
    result = verify(runner, cli_env)
    assert result.exit_code == 1
    named = expected.format(
        cert0=certificate["id"], cert0_number=certificate["registration_number"],
        protocol=registry.protocol["id"], protocol_number=registry.protocol[
            "registration_number"], secretary=SECRETARY, revoked=registry.revoked["id"],
        revoked_number=registry.revoked["registration_number"], forged=forged_id,
        forged_number=forged_number,
    )
    assert named in result.stderr, result.stderr
    broken = [line for line in result.stderr.splitlines() if line.startswith("BROKEN")]
    # the one changed row, and for the forged document also its missing entries
    assert len(broken) == (2 if tamper == "forged" else 1), result.stderr


def test_a_write_of_a_sealed_table_without_an_audit_entry_is_refused(
    app: Flask, client: FlaskClient, database: Database, example: Example,
) -> None:
    response = client.post("/api/v1/documents", json=example("certificate", "kk"))
    document_id = uuid.UUID(response.get_json()["id"])

    def write_without_entry() -> None:
        with database.write() as session:
            row = session.get(Document, document_id)
            assert row is not None
            row.docx_sha256 = "0" * 64

    with pytest.raises(UnsealedWrite, match="documents"):
        write_without_entry()
    with database.read() as session:
        row = session.get(Document, document_id)
        assert row is not None
        assert row.docx_sha256 is None


# --------------------------------------------------------------------------- upgrades


def as_written_before_seals(database: Database) -> None:
    """Turn the database into what the code before row seals wrote: the same rows and
    entries, no seals, each entry hashed without them; then the schema of revision 0006."""
    from alembic import command

    log = AuditEntry.__table__
    assert isinstance(log, Table)
    with database.engine.begin() as connection:
        entries = connection.execute(select(log).order_by(log.c.seq)).all()
        prev = GENESIS_HASH
        for entry in entries:
            digest = entry_hash(entry.seq, entry.at, entry.event, entry.document_id,
                                entry.payload, prev)
            connection.execute(update(log).where(log.c.seq == entry.seq).values(
                prev_hash=prev, hash=digest, rows=None))
            prev = digest
        connection.execute(update(AuditHead).values(count=len(entries), head_hash=prev))
        command.downgrade(alembic_config(connection), "0006")


def test_an_upgraded_registry_is_sealed_as_it_stands(
    client: FlaskClient, database: Database, runner: CliRunner, cli_env: dict[str, str],
    example: Example, signing_pki: SigningPKI,
) -> None:
    registry = build(client, example, signing_pki)
    as_written_before_seals(database)
    upgrade(database)
    with database.read() as session:
        baseline = session.scalars(
            select(AuditEntry).where(AuditEntry.event == "rows_sealed")
        ).all()
    assert len(baseline) == 1
    assert json.loads(baseline[0].payload)["baseline"] is True
    result = verify(runner, cli_env)
    assert result.exit_code == 0, result.stderr

    # sealed from now on: the upgrade's baseline is what later changes are measured against
    execute(database, "UPDATE document_facts SET surname = 'Жалған' WHERE document_id = :id",
            id=db_id(database, registry.certificates[0]["id"]))
    result = verify(runner, cli_env)
    assert result.exit_code == 1
    assert (f"document_facts row {registry.certificates[0]['id']} of document "
            f"{registry.certificates[0]['registration_number']}") in result.stderr
    assert f"surname changed since entry #{baseline[0].seq} sealed it" in result.stderr


def test_later_legitimate_changes_carry_their_own_seals(
    client: FlaskClient, database: Database, runner: CliRunner, cli_env: dict[str, str],
    example: Example,
) -> None:
    body = example("certificate", "kk")
    issued = client.post("/api/v1/documents", json=body).get_json()
    assert client.get(issued["links"]["docx"]).status_code == 200
    with database.read() as session:
        events = [
            (entry.event, [seal[0] for seal in json.loads(entry.rows or "[]")])
            for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        ]
    assert events[0][0] == "created"
    assert {"documents", "document_facts", "signing_states",
            "signature_requirements"} <= set(events[0][1])
    assert events[1] == ("issued", ["documents"])
    assert events[2] == ("docx_rendered", ["documents"])
    assert verify(runner, cli_env).exit_code == 0
