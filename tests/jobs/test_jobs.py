"""Every job across two months on a test clock: each document at its date, once; e-mails to a real SMTP
server and to the file mailbox; SEPA mandates, direct debit and the pain.008 batch."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from lxml import etree
from pypdf import PdfReader

from gateway.clock import Clock
from gateway.config import Config
from gateway.domain import Period
from gateway.errors import InputError
from gateway.formats.xsd import is_valid
from gateway.jobs import run_job
from gateway.store.jobs import JobsStore
from gateway.workers import InlinePool
from tests.intake.helpers import decl, declaration_xml, drop
from tests.jobs.conftest import MONACO, at, on_direct_debit


def pdf_text(path: Any) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(path.read_bytes())).pages)


def declare(config: Config, store: Any, employer: str = "104512", subscriber: str = "100001",
            period: str = "2026-11", now: Any = None) -> None:
    from gateway.pipeline import Pipeline

    drop(config, subscriber, f"d-{employer}-{period}.xml", declaration_xml(decl(employer, period)))
    Pipeline(config, store, clock=Clock(MONACO, now or at(2026, 11, 26)), pool=InlinePool()).run_once()


def test_two_months_each_document_at_its_date_once(jconfig: Config, jstore: Any) -> None:
    on_direct_debit(jstore)
    out = jconfig.outbox
    # before the opening day: nothing
    assert run_job(jconfig, jstore, "prefill", now=at(2026, 11, 19)).produced == []
    first = run_job(jconfig, jstore, "prefill", now=at(2026, 11, 20))
    xml = out / "100001/104512/prefilled/2026-11/declaration-104512-2026-11-preremplie.xml"
    assert str(xml.relative_to(out)) in first.produced and first.mails == 2
    assert is_valid("declaration", etree.fromstring(xml.read_bytes()))
    assert b"2001236" in xml.read_bytes() and "à compléter" in xml.read_text()
    assert (xml.with_suffix(".csv")).read_bytes().startswith(b"\xef\xbb\xbfemployer;period;registration")
    again = run_job(jconfig, jstore, "prefill", now=at(2026, 11, 21))  # the daily run the day after
    assert again.produced == [] and again.mails == 0 and again.skipped == len(first.produced)

    declare(jconfig, jstore)
    # statements: not before the due day of M+1 (closed period is then 2026-10, nothing computed)
    assert run_job(jconfig, jstore, "statements", now=at(2026, 12, 10)).produced == []
    stm = run_job(jconfig, jstore, "statements", now=at(2026, 12, 11))
    assert stm.key == "2026-11" and stm.produced == ["100001/104512/statements/2026-11/releve-104512-2026-11.pdf"]
    text = pdf_text(out / stm.produced[0])
    assert "Relevé de cotisations" in text and "CSM-104512-M1" in text and "15/12/2026" in text
    assert "CAR" in text and "Total" in text
    assert run_job(jconfig, jstore, "statements", now=at(2026, 12, 12)).produced == []
    # employers not on direct debit get no statement, ever
    assert not list(out.glob("*/104513/statements/**/*.pdf"))

    # reminders: for 2026-12 in the days before 10 January 2027, listing the missing clients only
    declare(jconfig, jstore, period="2026-12", now=at(2026, 12, 22))
    assert run_job(jconfig, jstore, "reminders", now=at(2027, 1, 5)).mails == 0
    rem = run_job(jconfig, jstore, "reminders", now=at(2027, 1, 8))
    assert rem.mails == 2 and run_job(jconfig, jstore, "reminders", now=at(2027, 1, 9)).mails == 0
    mails = sorted((jconfig.outbox / "_mail").glob("*reminder*2026-12*100001*.eml"))
    body = mails[0].read_bytes().decode()
    assert "104513" in body and "104514" in body and "104512" not in body.split("Nous n'avons")[1]

    runs = JobsStore(jstore)
    assert runs.last_run("reminders")[2] == "succeeded"  # type: ignore[index]
    manifest = json.loads(next(jconfig.jobs_dir.glob("statements-20261211*/manifest.json")).read_text())
    assert manifest["status"] == "succeeded" and manifest["produced"] == stm.produced


def test_mandates_once_and_reference_kept(jconfig: Config, jstore: Any) -> None:
    on_direct_debit(jstore)
    r = run_job(jconfig, jstore, "mandates", now=at(2026, 11, 20))
    assert len(r.produced) == 3 and not any("/104512/" in p for p in r.produced)
    text = pdf_text(jconfig.outbox / "100001/104513/mandate/mandat-sepa-CSM-104513-M1.pdf")
    assert "CSM-104513-M1" in text and "MC54ZZZ123456" in text and "Dupont & Fils <b>SARL</b>" in text
    assert "IBAN" in text and "Signature" in text
    assert run_job(jconfig, jstore, "mandates", now=at(2026, 12, 20)).produced == []
    assert jstore.show_employer("104513")["mandate_reference"] == "CSM-104513-M1"


@pytest.mark.parametrize("iban,bic", [("MC5811222000010123456789031", "SOGEMCM1"),
                                      ("MC5811222000010123456789030", "SOGE!CM1"), ("XX00", "SOGEMCM1")])
def test_set_direct_debit_rejects_bad_iban_or_bic(jstore: Any, iban: str, bic: str) -> None:
    from gateway.sepa import set_direct_debit

    with pytest.raises(InputError):
        set_direct_debit(jstore, "104513", iban, bic, date(2026, 11, 2))
    assert jstore.show_employer("104513")["direct_debit"] is False


def test_pain008_export_valid(jconfig: Config, jstore: Any) -> None:
    from gateway.sepa import export

    on_direct_debit(jstore)
    declare(jconfig, jstore)
    batch = export(jconfig, jstore, Period(2026, 11), date(2026, 12, 11))
    assert batch.payments == 1 and batch.collection_date == date(2026, 12, 15)
    root = etree.fromstring(batch.xml)
    assert "pain.008.001.02" in root.nsmap[None]
    ns = {"p": root.nsmap[None]}
    assert root.findtext(".//p:MndtId", namespaces=ns) == "CSM-104512-M1"
    assert root.findtext(".//p:CtrlSum", namespaces=ns) == f"{batch.total:.2f}"
    with pytest.raises(InputError):
        export(jconfig, jstore, Period(2026, 10), date(2026, 12, 11))  # nothing to collect


def test_workforce_and_synthesis(jconfig: Config, jstore: Any) -> None:
    declare(jconfig, jstore)
    w = run_job(jconfig, jstore, "workforce", now=at(2026, 11, 20))
    assert len(w.produced) == 8
    text = pdf_text(jconfig.outbox / "100001/104512/workforce/2026-11/effectif-104512-2026-11.pdf")
    assert "ŻÓŁĆ" in text and "2001236" in text
    s = run_job(jconfig, jstore, "synthesis", now=at(2026, 11, 27, 5))
    run_job(jconfig, jstore, "synthesis", now=at(2026, 12, 11, 5))  # before 20 December: November shown
    assert ";2026-11;" in (jconfig.outbox / "100001/synthesis/synthese-100001-2026-12-11.csv").read_text("utf-8-sig")
    csv = (jconfig.outbox / "100001/synthesis/synthese-100001-2026-11-27.csv").read_text("utf-8-sig")
    assert "104512;Boulangerie du Rocher;oui;2026-11;déclarée" in csv and "104513;" in csv and "à faire" in csv
    assert len(s.produced) == 4 and run_job(jconfig, jstore, "synthesis", now=at(2026, 11, 27, 6)).produced == []
    assert "Synthèse des clients" in pdf_text(jconfig.outbox / "100001/synthesis/synthese-100001-2026-11-27.pdf")


def test_retention_dry_run_then_removal(jconfig: Config, jstore: Any) -> None:
    run_job(jconfig, jstore, "workforce", now=at(2024, 10, 20))
    dry = run_job(jconfig, jstore, "retention", now=at(2026, 11, 1), dry_run=True)
    assert len(dry.planned) == 8 and all((jconfig.outbox / p).exists() for p in dry.planned)
    done = run_job(jconfig, jstore, "retention", now=at(2026, 11, 1))
    assert len(done.produced) == 8 and not any((jconfig.outbox / p).exists() for p in dry.planned)
    assert run_job(jconfig, jstore, "retention", now=at(2026, 11, 2)).produced == []
    assert JobsStore(jstore).has_document(dry.planned[0])  # the database keeps the record


def test_retention_removes_temporary_files_left_by_a_crash(jconfig: Config, jstore: Any) -> None:
    import os
    import time

    folder = jconfig.outbox / "100001" / "acknowledgements"
    folder.mkdir(parents=True)
    old, fresh = folder / ".tmp-cut-short", folder / ".tmp-in-progress"
    old.write_bytes(b"%PDF half")
    fresh.write_bytes(b"%PDF writing")
    os.utime(old, (time.time() - 2 * 86400,) * 2)
    os.utime(fresh, (time.time() - 60,) * 2)
    # the gateway's clock two months ahead (a test clock, a catch-up): the ages are the machine's
    now = at(2027, 1, 1)
    dry = run_job(jconfig, jstore, "retention", now=now, dry_run=True)
    assert dry.planned == ["100001/acknowledgements/.tmp-cut-short"] and old.exists()
    done = run_job(jconfig, jstore, "retention", now=now)
    assert done.produced == ["removed:100001/acknowledgements/.tmp-cut-short"]
    assert not old.exists() and fresh.exists(), "a write in progress is left alone"


def test_a_failing_job_is_recorded(jconfig: Config, jstore: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import gateway.jobs.synthesis as mod

    monkeypatch.setattr(mod, "run", lambda ctx, p: 1 / 0)
    run_job(jconfig, jstore, "synthesis", now=at(2026, 11, 27))
    assert JobsStore(jstore).last_run("synthesis")[2] == "failed"  # type: ignore[index]


def test_dry_run_writes_nothing(jconfig: Config, jstore: Any) -> None:
    r = run_job(replace(jconfig), jstore, "prefill", now=at(2026, 11, 20), dry_run=True)
    assert r.planned and not r.produced and not jconfig.outbox.exists() or not any(jconfig.outbox.rglob("*.xml"))
