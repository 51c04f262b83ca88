"""Corrections by the recovery department (Service Recouvrement): a complementary or rectifying declaration
recorded next to the original of an employer and period, with its reason, and its contributions computed.

The file is read and checked like an upload (same formats, same offline rules); it must hold exactly one
declaration, for that employer and period, and an original must exist. Its entry in the employer's account
is written with its contributions (a complementary one adds, a rectifying one replaces the period's
figures). Then the subscriber is told: a notice in the employer's outbox (PDF and XML: per fund what was
owed, what is owed now, the difference) and an e-mail; and when the period's statement was already issued,
its new version (« annule et remplace »).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from gateway import formats, notify, outbox
from gateway.config import Config
from gateway.domain import DeclarationFile, Period
from gateway.errors import InputError
from gateway.jobs.base import debit_date, due_date
from gateway.money import ZERO
from gateway.pipeline import Pipeline
from gateway.render.text import fr_amount, fr_date, fr_period
from gateway.rules.account import CorrectionNotice, ShareLine, fund_changes, owed_lines
from gateway.rules.context import CheckContext
from gateway.store.account import AccountStore
from gateway.store.jobs import Client, JobsStore
from gateway.store.repo import Store

KINDS = ("complementary", "rectifying")


def correct(pipeline: Pipeline, employer: str, period: str, file: Path, kind: str, reason: str) -> str:
    """Record the correction; returns its reference. InputError with the findings when the file is wrong."""
    if kind not in KINDS:
        raise InputError(f"nature inconnue {kind!r} (complementary ou rectifying)")
    if not reason.strip():
        raise InputError("le motif de la correction est obligatoire")
    Period.parse(period)
    original = pipeline.intake.original_of(employer, period)
    if original is None:
        raise InputError(f"aucune déclaration originale de l'employeur {employer} pour {period}: rien à corriger")
    result = formats.read(file.read_bytes(), file.name, pipeline.limits)
    if result.value is None or not isinstance(result.value, DeclarationFile):
        raise InputError("fichier refusé: " + "; ".join(f"{f.code} {f.message}" for f in result.findings[:5]))
    decls = result.value.declarations
    if len(decls) != 1 or decls[0].employer != employer or str(decls[0].period) != period:
        raise InputError(f"le fichier doit contenir exactement une déclaration de l'employeur {employer} pour {period}")
    context = CheckContext.from_config(pipeline.config, pipeline.clock.today())
    errors = [f for v in formats.check(result, context, None) for f in v.findings if f.is_error]
    contributions = pipeline._contributions(decls[0])
    errors += [f for f in contributions.findings if f.is_error]
    if errors:
        raise InputError("déclaration refusée: " + "; ".join(f"{f.code} {f.message}" for f in errors[:5]))
    number = pipeline.intake.corrections_count(original.id) + 1
    reference = f"{original.reference}-C{number}"
    now = pipeline.clock.now()
    decl_id = pipeline.intake.record_declaration(
        file_id=None, reference=reference, decl=decls[0], late=False, received_at=now, recorded_at=now,
        kind=kind, corrects_id=original.id, reason=reason.strip())
    assert decl_id is not None
    store = pipeline.store
    account = AccountStore(store)
    client = JobsStore(store).client(employer, now.astimezone(pipeline.config.tz).date())
    employer_id = client.employer_id
    before = owed_lines(account.entries(employer_id, period), period)
    pipeline.intake.save_contributions(decl_id, contributions, now)
    notice = _notice(pipeline.config, client, period, kind, reason.strip(), reference, original.reference,
                     before, owed_lines(account.entries(employer_id, period), period), now)
    _deliver(pipeline.config, store, notice, client, now)
    from gateway.jobs import run_job
    from gateway.jobs.base import closed_period

    if account.statements(employer_id, period) and Period.parse(period) <= closed_period(pipeline.config, now.date()):
        run_job(pipeline.config, store, "statements", period, now)  # its new version, and its e-mail
    return reference


def _notice(config: Config, client: Client, period: str, kind: str, reason: str, reference: str,
            original: str, before: Sequence[ShareLine], now_lines: Sequence[ShareLine], at: datetime
            ) -> CorrectionNotice:
    today = at.astimezone(config.tz).date()
    p = Period.parse(period)
    funds = fund_changes(before, now_lines)
    more = sum((f.difference for f in funds), ZERO) > 0
    direct = bool(client.direct_debit and client.mandate_reference and client.payment_incident_at is None)
    notes: list[str] = []
    due_on = None
    if more:
        due_on = debit_date(config, p, today) if direct else max(due_date(config, p), today)
        if not direct and due_date(config, p) < today:
            notes.append("L'échéance de la période est passée : le montant complémentaire est à régler dès "
                         "réception de cet avis.")
    return CorrectionNotice(
        reference=reference, original_reference=original, kind=kind, reason=reason, employer=client.number,
        employer_name=client.name, employer_address=client.address, subscriber=client.subscriber, period=period,
        recorded_at=at, funds=funds, due_on=due_on, direct_debit=direct, notes=tuple(notes))


def _next_step(notice: CorrectionNotice) -> str:
    """What the subscriber has to do about the difference, in one sentence."""
    diff = notice.difference
    if diff > 0:
        when = (f", {'prélevé le' if notice.direct_debit else 'à régler avant le'} {fr_date(notice.due_on)}"
                if notice.due_on else "")
        return f"Montant complémentaire dû : {fr_amount(diff)}{when}."
    if diff < 0:
        return f"Crédit en votre faveur : {fr_amount(-diff)}, reporté sur le prochain relevé de cotisations."
    return "Aucun montant supplémentaire n'est dû."


def _deliver(config: Config, store: Store, notice: CorrectionNotice, client: Client, at: datetime) -> None:
    from gateway.render.notice_pdf import render_notice_pdf
    from gateway.render.notice_xml import check_notice_xml, render_notice_xml

    layout, jobs = outbox.Layout(config.outbox), JobsStore(store)
    xml = render_notice_xml(notice, made_at=at)
    check_notice_xml(xml)  # never a notice its own schema refuses
    paths = []
    for suffix, data in (("xml", xml), ("pdf", render_notice_pdf(notice, made_at=at))):
        path = layout.employer_doc(notice.subscriber, notice.employer, "corrections",
                                   f"avis-correction-{notice.reference}.{suffix}", notice.period)
        written = outbox.write(layout, path, data)
        jobs.add_document(kind="correction-notice", path=written.path, sha256=written.sha256, size=written.size,
                          subscriber_id=client.subscriber_id, employer_id=client.employer_id, period=notice.period,
                          now=at)
        paths.append(path)
    email = jobs.subscriber_info(client.subscriber).email
    what = ("déclaration complémentaire" if notice.kind == "complementary" else
            f"déclaration rectificative (remplace la déclaration {notice.original_reference})")
    then = _next_step(notice)
    notify.queue(store, dedup_key=f"correction:{notice.reference}", subscriber_id=client.subscriber_id,
                 recipient=email, now=at,
                 subject=f"Correction de la déclaration de {fr_period(notice.period)} — {notice.employer}",
                 body=(f"Bonjour,\n\nLe Service Recouvrement a enregistré une {what} pour {notice.employer} — "
                       f"{notice.employer_name}, période {fr_period(notice.period)} (référence {notice.reference}).\n"
                       f"Motif : {notice.reason}\n\nDû avant : {fr_amount(notice.before)} ; dû maintenant : "
                       f"{fr_amount(notice.now)}.\n{then}\n\nL'avis détaillé est dans votre dossier de retour : "
                       f"/outbox/{paths[-1].relative_to(notice.subscriber)}\n\n"
                       "Service Recouvrement : +377 93 15 49 62, recouvrement@caisses-sociales.mc"))
    notify.send_pending(config, store, at)
