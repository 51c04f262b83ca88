"""The employer's account through a whole season, to the cent: original, rectifying, complementary; the
statement and its new version; the pain.008 exported, exported again, after a correction; a bank return;
the next period with the balance carried. The statement, the pain.008 and ``gateway account`` agree."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import etree
from pypdf import PdfReader

from gateway.cli import cli
from gateway.clock import Clock
from gateway.config import Config
from gateway.corrections import correct
from gateway.domain import Period
from gateway.errors import InputError
from gateway.incidents import import_report
from gateway.jobs import run_job
from gateway.pipeline import Pipeline
from gateway.rules.account import balance
from gateway.sepa import export
from gateway.store.account import AccountStore
from gateway.workers import InlinePool
from tests.intake.helpers import decl, declaration_xml, drop
from tests.jobs.bank import pain002
from tests.jobs.conftest import MONACO, at, on_direct_debit

ONE = '<employee registration="2001234"><gross>{}</gross><hours>169.00</hours></employee>'


def pipe(config: Config, store: Any, now: Any) -> Pipeline:
    return Pipeline(config, store, clock=Clock(MONACO, now), pool=InlinePool())


def declare(config: Config, store: Any, gross: str, period: str = "2026-11", now: Any = None) -> None:
    drop(config, "100001", f"d-{period}-{gross}.xml", declaration_xml(decl("104512", period, ONE.format(gross))))
    assert pipe(config, store, now or at(2026, 11, 26)).run_once().references


def fix(config: Config, store: Any, tmp: Path, gross: str, kind: str, now: Any, reason: str = "erreur") -> str:
    f = tmp / f"fix-{gross}.xml"
    f.write_bytes(declaration_xml(decl("104512", "2026-11", ONE.format(gross))))
    return correct(pipe(config, store, now), "104512", "2026-11", f, kind, reason)


def owed(store: Any, period: str = "2026-11") -> Decimal:
    account = AccountStore(store)
    return balance(account.entries(account.employer_id("104512")), up_to=period)


def alone(config: Config, store: Any, gross: str) -> Decimal:
    """What a declaration of ``gross`` owes on its own (computed by the rules, not read from the account)."""
    from gateway.formats import read

    value = read(declaration_xml(decl("104512", "2026-11", ONE.format(gross))), "x.xml").value
    result = pipe(config, store, at(2026, 11, 26))._contributions(value.declarations[0])  # type: ignore[union-attr]
    return sum((t.employer + t.employee for t in result.totals), Decimal("0.00"))


def pdf(path: Path) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages)


def e2e_ids(xml: bytes) -> list[str]:
    root = etree.fromstring(xml)
    return [e.text for e in root.iter("{*}EndToEndId")]  # type: ignore[misc]


def test_the_season_to_the_cent(jconfig: Config, jstore: Any, tmp_path: Path) -> None:
    on_direct_debit(jstore)
    out = jconfig.outbox
    declare(jconfig, jstore, "6000.00")
    assert owed(jstore) == alone(jconfig, jstore, "6000.00")

    # the statement: not before the period is closed, then v1
    with pytest.raises(InputError, match="n'est pas close.*10/12/2026"):
        run_job(jconfig, jstore, "statements", "2026-11", at(2026, 12, 10))
    v1 = run_job(jconfig, jstore, "statements", "2026-11", at(2026, 12, 11))
    assert v1.produced == ["100001/104512/statements/2026-11/releve-104512-2026-11.pdf"]
    assert run_job(jconfig, jstore, "statements", "2026-11", at(2026, 12, 11, 8)).produced == []

    # rectifying 6,000 → 10,000 replaces: the account owes what 10,000 owes, not 16,000's
    ref = fix(jconfig, jstore, tmp_path, "10000.00", "rectifying", at(2026, 12, 12), "salaire mal saisi")
    assert owed(jstore) == alone(jconfig, jstore, "10000.00")
    notice = out / f"100001/104512/corrections/2026-11/avis-correction-{ref}.pdf"
    text = pdf(notice)
    assert "salaire mal saisi" in text and ref in text
    xml = etree.fromstring(notice.with_suffix(".xml").read_bytes())
    assert Decimal(xml.findtext("{*}totals/{*}difference/{*}total") or "x") == \
        alone(jconfig, jstore, "10000.00") - alone(jconfig, jstore, "6000.00")
    v2 = out / "100001/104512/statements/2026-11/releve-104512-2026-11-v2.pdf"
    assert v2.is_file(), "the statement issued before the correction gets its new version at once"
    t2 = pdf(v2)
    assert "annule et remplace le relevé du 11/12/2026" in t2 and "Version 2" in t2
    mails = sorted(p.name for p in (out / "_mail").glob("*.eml"))
    assert any("correction" in m for m in mails) and any("statement" in m for m in mails), mails

    # complementary adds
    fix(jconfig, jstore, tmp_path, "500.00", "complementary", at(2026, 12, 12, 9))
    after_fixes = alone(jconfig, jstore, "10000.00") + alone(jconfig, jstore, "500.00")
    assert owed(jstore) == after_fixes

    # export: what the account owes, once; again: the same bytes
    first = export(jconfig, jstore, Period(2026, 11), at(2026, 12, 13).date(), at(2026, 12, 13))
    assert first.total == after_fixes and first.payments == 1 and not first.again
    root = etree.fromstring(first.xml)
    assert root.findtext(".//{*}Dbtr/{*}PstlAdr/{*}Ctry") == "MC"
    assert "3 rue Basse" in (root.findtext(".//{*}Dbtr/{*}PstlAdr/{*}AdrLine") or "")
    again = export(jconfig, jstore, Period(2026, 11), at(2026, 12, 14).date(), at(2026, 12, 14))
    assert again.again and again.xml == first.xml and again.message_id == first.message_id
    assert owed(jstore) == 0

    # a correction after the export: one collection for the difference, a new EndToEndId
    fix(jconfig, jstore, tmp_path, "300.00", "complementary", at(2026, 12, 14, 9))
    second = export(jconfig, jstore, Period(2026, 11), at(2026, 12, 14).date(), at(2026, 12, 14, 10))
    assert second.total == alone(jconfig, jstore, "300.00") and second.message_id != first.message_id
    assert set(e2e_ids(first.xml)).isdisjoint(e2e_ids(second.xml))

    # lowered below what was collected: a credit, never debited, carried on the statement
    fix(jconfig, jstore, tmp_path, "8000.00", "rectifying", at(2026, 12, 14, 11))
    credit = alone(jconfig, jstore, "8000.00") - (after_fixes + alone(jconfig, jstore, "300.00"))
    assert credit < 0 and owed(jstore) == credit
    third = export(jconfig, jstore, Period(2026, 11), at(2026, 12, 14).date(), at(2026, 12, 14, 12))
    assert third.again and third.xml == second.xml and any("crédit" in n for n in third.notes)
    versions = sorted((out / "100001/104512/statements/2026-11").glob("*-v*.pdf"), key=lambda p: int(p.stem.split("-v")[1]))
    assert [p.name for p in versions][-1] == "releve-104512-2026-11-v5.pdf"  # each correction: a new version
    assert "Crédit en votre faveur" in pdf(versions[-1])

    # the bank rejects the first collection: owed again, payment incident, e-mail; never applied twice
    report = pain002("BANK-1", [(e2e_ids(first.xml)[0], first.total, "AM04"), ("CSM999999-202611-1", Decimal(1), "MS02")])
    applied = import_report(jconfig, jstore, report, "retour.xml", at(2026, 12, 16))
    assert [a.end_to_end_id for a in applied.applied] == e2e_ids(first.xml) and applied.unknown == ["CSM999999-202611-1"]
    assert owed(jstore) == credit + first.total
    assert jstore.show_employer("104512")["payment_incident_at"] is not None
    assert import_report(jconfig, jstore, report, "retour.xml", at(2026, 12, 16)).duplicate_file
    assert owed(jstore) == credit + first.total
    assert any("incident" in p.name for p in (out / "_mail").glob("*.eml"))
    with pytest.raises(InputError, match="aucun prélèvement"):  # suspended: no batch of its own
        export(jconfig, jstore, Period(2026, 12), at(2026, 12, 17).date(), at(2026, 12, 17))

    # gateway account says the same
    toml = jconfig.home / "gateway.toml"
    from tests.conftest import PG_URL

    toml.write_text(f'[database]\nurl = "{PG_URL or "sqlite:///gateway.db"}"\n[sftp]\nenabled = false\n'
                    f'[sepa]\ncreditor_id = "MC54ZZZ123456"\n')
    runner = CliRunner()
    res = runner.invoke(cli, ["--config", str(toml), "account", "104512", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert Decimal(data["balance"]) == owed(jstore) and data["payment_incident_at"]
    kinds = [e["kind"] for e in data["entries"]]
    assert kinds == ["declaration", "rectifying", "complementary", "collection", "complementary", "collection",
                     "rectifying", "return"]

    # the next period: the balance carried on its statement, once the incident is cleared
    AccountStore(jstore).clear_incident("104512")
    declare(jconfig, jstore, "6000.00", "2026-12", at(2026, 12, 22))
    dec = run_job(jconfig, jstore, "statements", "2026-12", at(2027, 1, 11))
    assert any(p.endswith("releve-104512-2026-12.pdf") for p in dec.produced)
    text = pdf(out / "100001/104512/statements/2026-12/releve-104512-2026-12.pdf")
    assert "Solde des périodes précédentes" in text
    nxt = export(jconfig, jstore, Period(2026, 12), at(2027, 1, 11).date(), at(2027, 1, 11))
    assert nxt.total == credit + first.total + alone(jconfig, jstore, "6000.00")  # November's balance carried
    assert owed(jstore, "2026-12") == 0


def test_migration_0004_builds_the_account_of_what_was_recorded(jconfig: Config, jstore: Any, tmp_path: Path) -> None:
    from alembic import command

    from gateway.store import db

    on_direct_debit(jstore)
    declare(jconfig, jstore, "6000.00")
    fix(jconfig, jstore, tmp_path, "10000.00", "rectifying", at(2026, 12, 1))
    assert run_job(jconfig, jstore, "statements", "2026-11", at(2026, 12, 11)).produced
    account = AccountStore(jstore)
    employer_id = account.employer_id("104512")
    live = [(e.kind, e.period, e.amount, e.source, e.lines) for e in account.entries(employer_id)]
    command.downgrade(db._alembic_config(jstore.engine), "0003")  # the schema before the account
    db.upgrade(jstore.engine)
    rebuilt = [(e.kind, e.period, e.amount, e.source, e.lines) for e in account.entries(employer_id)]
    assert rebuilt == live and rebuilt[1][0] == "rectifying"
    # the statement already issued showed both declarations added (the old rule): a version 2 replaces it
    (v1,) = account.statements(employer_id, "2026-11")
    assert v1.version == 1 and v1.fingerprint.startswith("avant-0004")
    again = run_job(jconfig, jstore, "statements", "2026-11", at(2026, 12, 12))
    assert again.produced == ["100001/104512/statements/2026-11/releve-104512-2026-11-v2.pdf"]
    assert run_job(jconfig, jstore, "statements", "2026-11", at(2026, 12, 13)).produced == []


def _toml(config: Config, sepa: str) -> Path:
    from tests.conftest import PG_URL

    toml = config.home / "gateway.toml"
    toml.write_text(f'[database]\nurl = "{PG_URL or "sqlite:///gateway.db"}"\n[sftp]\nenabled = false\n[sepa]\n{sepa}\n')
    return toml


SEPA_OK = ('creditor_iban = "FR7630006000011234567890189"\ncreditor_bic = "AGRIFRPP"\n'
           'creditor_id = "MC54ZZZ123456"')


def test_sepa_commands(jconfig: Config, jstore: Any, tmp_path: Path) -> None:
    on_direct_debit(jstore)
    declare(jconfig, jstore, "3000.00")
    runner = CliRunner()
    # the creditor identifier: a wrong one stops the load, a missing one refuses the export and says where
    bad = runner.invoke(cli, ["--config", str(_toml(jconfig, 'creditor_id = "MC55ZZZ123456"')), "account", "104512"])
    assert bad.exit_code == 2 and "sepa.creditor_id" in bad.output
    unset = _toml(jconfig, 'creditor_iban = "FR7630006000011234567890189"\ncreditor_bic = "AGRIFRPP"')
    res = runner.invoke(cli, ["--config", str(unset), "sepa", "export", "--period", "2026-11"])
    assert res.exit_code == 2 and "section [sepa], clé creditor_id" in res.output
    toml = _toml(jconfig, SEPA_OK)
    dry = runner.invoke(cli, ["--config", str(toml), "sepa", "export", "--period", "2026-11", "--dry-run"])
    assert dry.exit_code == 0 and "CSM104512-202611-1" in dry.output and "simulation" in dry.output
    assert not list(jconfig.jobs_dir.glob("sepa/*.xml")), "a dry run writes nothing"
    out = runner.invoke(cli, ["--config", str(toml), "sepa", "export", "--period", "2026-11"])
    assert out.exit_code == 0, out.output
    (written,) = (jconfig.jobs_dir / "sepa").glob("pain008-2026-11-*.xml")
    again = runner.invoke(cli, ["--config", str(toml), "sepa", "export", "--period", "2026-11"])
    assert again.exit_code == 0 and "rien de nouveau" in again.output
    assert list((jconfig.jobs_dir / "sepa").glob("*.xml")) == [written]  # same MsgId, same file, same bytes
    e2e = e2e_ids(written.read_bytes())[0]
    amount = Decimal(etree.fromstring(written.read_bytes()).findtext(".//{*}InstdAmt") or "0")
    report = tmp_path / "pain002.xml"
    report.write_bytes(pain002("BANK-7", [(e2e, amount, "MD01")]))
    first = runner.invoke(cli, ["--config", str(toml), "sepa", "returns", str(report)])
    assert first.exit_code == 0 and "absence de mandat" in first.output and e2e in first.output, first.output
    second = runner.invoke(cli, ["--config", str(toml), "sepa", "returns", str(report)])
    assert second.exit_code == 1 and "déjà importé" in second.output
    acct = runner.invoke(cli, ["--config", str(toml), "account", "104512", "--period", "2026-11"])
    assert acct.exit_code == 0 and "prélèvement rejeté" in acct.output and "incident de paiement" in acct.output
    assert f"reste dû {amount}" in acct.output
    run_job(jconfig, jstore, "synthesis", now=at(2026, 12, 17, 5))
    synthesis = (jconfig.outbox / "100001/synthesis/synthese-100001-2026-12-17.csv").read_text("utf-8-sig")
    assert synthesis.splitlines()[0].endswith(";incident_paiement")
    assert next(x for x in synthesis.splitlines() if x.startswith("104512;")).endswith(";oui")
    cleared = runner.invoke(cli, ["--config", str(toml), "employer", "clear-incident", "104512"])
    assert cleared.exit_code == 0 and "levé" in cleared.output
    garbage = tmp_path / "x.xml"
    garbage.write_bytes(b"<Document><oops/></Document>")
    assert runner.invoke(cli, ["--config", str(toml), "sepa", "returns", str(garbage)]).exit_code == 2
    stmt = runner.invoke(cli, ["--config", str(toml), "jobs", "run", "statements", "--period", "2026-12"])
    assert stmt.exit_code == 2 and "n'est pas close" in stmt.output


def test_a_camt054_return_and_the_batch_valid_against_its_xsd(jconfig: Config, jstore: Any) -> None:
    import sepaxml

    on_direct_debit(jstore)
    declare(jconfig, jstore, "3000.00")
    batch = export(jconfig, jstore, Period(2026, 11), at(2026, 12, 13).date(), at(2026, 12, 13))
    xsd = etree.XMLSchema(etree.parse(str(Path(sepaxml.__file__).parent / "schemas" / "pain.008.001.02.xsd")))
    assert xsd.validate(etree.fromstring(batch.xml)), xsd.error_log
    (e2e,) = e2e_ids(batch.xml)
    camt = (Path(__file__).parents[1] / "sepa/data/camt054-one-return-one-booked.xml").read_text()
    assert "CSM104512-202611-1" in camt and e2e == "CSM104512-202611-1"
    camt = camt.replace("10652.15", f"{batch.total:.2f}")  # the fixture's return, for this collection's amount
    report = import_report(jconfig, jstore, camt.encode(), "camt.xml", at(2026, 12, 20))
    assert [(a.end_to_end_id, a.status) for a in report.applied] == [(e2e, "returned")]
    assert report.booked == ["CSM104514-202611-1"] and not report.unknown
    assert owed(jstore) == batch.total
