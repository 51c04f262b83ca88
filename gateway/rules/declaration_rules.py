"""The declaration rules checked after the schema (docs/formats.md, "Règles"), as pure functions.

Each declaration of a file is judged on its own. Rules that need no records run everywhere, including
``gateway validate`` offline; rules that need the records run when a :class:`RecordsView` is given.
When the subscriber is not assigned to the employer, no record rule runs for that declaration: the
answer must not depend on whether the employer exists, has employees or has declared already.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta

from gateway.codes import MAX_FINDINGS, finding
from gateway.domain import Declaration, DeclarationFile, EmployeeLine, Event, EventType, Finding, Location
from gateway.rules.context import CheckContext, Verdict
from gateway.rules.view import RecordsView

MIN_AGE, MAX_AGE = 14, 100
ONE_DAY = timedelta(days=1)
_DATES_BOTH = frozenset(EventType) - {EventType.HIRE, EventType.DEPARTURE}


def check_file(
    file: DeclarationFile, ctx: CheckContext, view: RecordsView | None = None
) -> tuple[Verdict, ...]:
    """One verdict per declaration, in file order."""
    seen: dict[tuple[str, str], int] = {}
    verdicts = []
    for decl in file.declarations:
        key = (decl.employer, str(decl.period))
        earlier = seen.setdefault(key, decl.index)
        verdicts.append(
            check_declaration(decl, ctx, view, duplicate_of=earlier if earlier != decl.index else None)
        )
    return tuple(verdicts)


def check_declaration(
    decl: Declaration, ctx: CheckContext, view: RecordsView | None = None, *, duplicate_of: int | None = None
) -> Verdict:
    """All the rules for one declaration; ``duplicate_of``: index of an earlier one for the same month."""
    found: list[Finding] = []
    if duplicate_of is not None:
        found.append(
            finding(
                "DECL_DUPLICATE_IN_FILE",
                f"L'employeur {decl.employer} a déjà une déclaration pour {decl.period} dans ce fichier "
                f"(déclaration n° {duplicate_of}).",
                _at(decl.location, "", "period"),
                "une seule déclaration par employeur et par période",
            )
        )
    found += period_rules(decl, ctx)
    found += line_rules(decl)
    found += totals_rules(decl)
    if view is not None and ctx.subscriber is not None:
        found += record_rules(decl, ctx, view)
    late = any(f.code == "DECL_LATE" for f in found)
    found.sort(key=lambda f: not f.is_error)  # errors first, so capping never hides one behind warnings
    return Verdict(decl.index, tuple(found[:MAX_FINDINGS]), len(found), late)


# --- Rules that need no records ------------------------------------------------------------------------


def opening_day(decl: Declaration, ctx: CheckContext) -> date:
    return date(decl.period.year, decl.period.month, ctx.period_open_day)


def due_date(decl: Declaration, ctx: CheckContext) -> date:
    nxt = decl.period.next()
    return date(nxt.year, nxt.month, ctx.due_day)


def period_rules(decl: Declaration, ctx: CheckContext) -> list[Finding]:
    """The period is open on the day received; received after the due day, it is late (a warning)."""
    opens = opening_day(decl, ctx)
    where = _at(decl.location, "@period", "period")
    if ctx.today < opens:
        return [
            finding(
                "DECL_PERIOD_NOT_OPEN",
                f"La période {decl.period} n'est pas encore ouverte : elle ouvre le {opens:%d/%m/%Y}.",
                where,
                f"une période ouverte (à partir du {opens:%d/%m/%Y})",
            )
        ]
    due = due_date(decl, ctx)
    if ctx.today > due:
        return [
            finding(
                "DECL_LATE",
                f"Déclaration de {decl.period} reçue le {ctx.today:%d/%m/%Y}, après l'échéance du "
                f"{due:%d/%m/%Y} : acceptée, signalée en retard.",
                where,
                f"réception au plus tard le {due:%d/%m/%Y}",
            )
        ]
    return []


def _identity_key(line: EmployeeLine) -> tuple[object, ...]:
    if line.registration:
        return ("r", line.registration)
    return ("n", normal_name(line.last_name), normal_name(line.first_name), line.birth_date)


def line_rules(decl: Declaration) -> Iterator[Finding]:
    """Identity of new employees, same employee once, plausible age, event dates."""
    first_seen: dict[tuple[object, ...], EmployeeLine] = {}
    for line in decl.lines:
        if not line.registration:
            missing = [
                n
                for n, v in (
                    ("last-name", line.last_name),
                    ("first-name", line.first_name),
                    ("birth-date", line.birth_date),
                )
                if not v
            ]
            if missing:
                csv_name = missing[0].replace("-", "_")
                yield finding(
                    "DECL_IDENTITY_MISSING",
                    "Salarié sans matricule : nom, prénom et date de naissance sont obligatoires "
                    f"(manque : {', '.join(missing)}).",
                    _at(line.location, "", csv_name),
                    "registration, ou last-name + first-name + birth-date",
                )
        key = _identity_key(line)
        if key in first_seen:
            other = first_seen[key].location
            where = f"ligne {other.line}" if other.line else "plus haut"
            yield finding(
                "DECL_DUPLICATE_EMPLOYEE",
                f"Le salarié {line.identity} figure deux fois dans la déclaration (déjà {where}).",
                _at(line.location, "", "registration"),
                "chaque salarié une seule fois par déclaration",
            )
        else:
            first_seen[key] = line
        if line.birth_date is not None:
            yield from age_rule(decl, line)
        for event in line.events:
            yield from event_rules(decl, event)


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def age_rule(decl: Declaration, line: EmployeeLine) -> Iterator[Finding]:
    assert line.birth_date is not None
    youngest = age_on(line.birth_date, decl.period.last_day)
    oldest = age_on(line.birth_date, decl.period.first_day)
    if youngest < MIN_AGE or oldest > MAX_AGE:
        yield finding(
            "DECL_AGE_IMPLAUSIBLE",
            f"Date de naissance {line.birth_date:%d/%m/%Y} : âge invraisemblable en {decl.period}.",
            _at(line.location, "birth-date", "birth_date"),
            f"un âge de {MIN_AGE} à {MAX_AGE} ans pendant la période",
        )


def event_rules(decl: Declaration, event: Event) -> Iterator[Finding]:
    """Dates per event type (hire: start only; departure: end only; others: both), within the period."""
    first, last = decl.period.first_day, decl.period.last_day
    label = event.type.value
    needs_start = event.type is not EventType.DEPARTURE
    needs_end = event.type is not EventType.HIRE
    for attr, needed, value in (("start", needs_start, event.start), ("end", needs_end, event.end)):
        where = _at(event.location, f"@{attr}", f"event_{attr}")
        if needed and value is None:
            yield finding(
                "DECL_EVENT_DATE_MISSING",
                f"Événement {label} sans date de {_fr(attr)}.",
                where,
                _dates_expected(event.type),
            )
        elif not needed and value is not None:
            yield finding(
                "DECL_EVENT_DATE_NOT_ALLOWED",
                f"Événement {label} : pas de date de {_fr(attr)}.",
                where,
                _dates_expected(event.type),
            )
    if event.hours is not None and event.type is not EventType.PAID_LEAVE:
        yield finding(
            "DECL_EVENT_HOURS_NOT_ALLOWED",
            f"Heures données pour l'événement {label}.",
            _at(event.location, "@hours", "event_hours"),
            "des heures seulement pour paid-leave",
        )
    if event.type is EventType.HIRE and event.start is not None and not first <= event.start <= last:
        yield _outside(decl, event, "@start", "event_start", event.start)
    elif event.type is EventType.DEPARTURE and event.end is not None and not first <= event.end <= last:
        yield _outside(decl, event, "@end", "event_end", event.end)
    elif event.type in _DATES_BOTH and event.start is not None and event.end is not None:
        if event.end < event.start:
            yield finding(
                "DECL_EVENT_END_BEFORE_START",
                f"Événement {label} : fin le {event.end:%d/%m/%Y} avant le début le {event.start:%d/%m/%Y}.",
                _at(event.location, "@end", "event_end"),
                "end postérieur ou égal à start",
            )
        elif event.end < first or event.start > last:
            yield _outside(decl, event, "@start", "event_start", event.start)


def _outside(decl: Declaration, event: Event, xml: str, csv: str, day: date) -> Finding:
    p = decl.period
    return finding(
        "DECL_EVENT_OUTSIDE_PERIOD",
        f"Événement {event.type.value} le {day:%d/%m/%Y} : hors de la période {p}.",
        _at(event.location, xml, csv),
        f"une date du {p.first_day:%d/%m/%Y} au {p.last_day:%d/%m/%Y}"
        + ("" if event.type in (EventType.HIRE, EventType.DEPARTURE) else " (chevauchement)"),
    )


def _dates_expected(kind: EventType) -> str:
    if kind is EventType.HIRE:
        return "hire : start seulement"
    if kind is EventType.DEPARTURE:
        return "departure : end seulement"
    return f"{kind.value} : start et end"


def _fr(attr: str) -> str:
    return "début" if attr == "start" else "fin"


def totals_rules(decl: Declaration) -> list[Finding]:
    """When totals are given, each must match the lines (a guard against truncated exports)."""
    t = decl.totals
    if t is None:
        return []
    found = []
    for attr, given, actual, what in (
        ("employees", t.employees, len(decl.lines), "nombre de salariés"),
        ("gross", t.gross, decl.total_gross, "total des salaires bruts"),
        ("hours", t.hours, decl.total_hours, "total des heures"),
    ):
        if given != actual:
            found.append(
                finding(
                    "DECL_TOTALS_MISMATCH",
                    f"Le {what} annoncé ({given}) diffère de la somme des lignes ({actual}).",
                    _at(t.location, f"@{attr}", attr),
                    str(actual),
                )
            )
    return found


# --- Rules that need the records -------------------------------------------------------------------------


def record_rules(decl: Declaration, ctx: CheckContext, view: RecordsView) -> list[Finding]:
    """Assignment first; the other record rules only for an employer the subscriber is assigned to."""
    assert ctx.subscriber is not None
    if not view.is_assigned(ctx.subscriber, decl.employer, ctx.today):
        # Same words whether the employer exists or not: nothing about it may leak.
        return [
            finding(
                "DECL_EMPLOYER_NOT_ASSIGNED",
                f"Vous n'êtes pas autorisé à déclarer pour l'employeur {decl.employer}.",
                _at(decl.location, "@employer", "employer"),
                "un employeur rattaché à votre compte d'abonné",
            )
        ]
    found: list[Finding] = []
    if view.has_declaration(decl.employer, decl.period):
        found.append(
            finding(
                "DECL_PERIOD_ALREADY_DECLARED",
                f"La période {decl.period} est déjà déclarée pour l'employeur {decl.employer} : "
                "une déclaration "
                "ne peut être modifiée par un nouveau fichier (corrections : Service Recouvrement).",
                _at(decl.location, "@period", "period"),
                "une période non encore déclarée",
            )
        )
    for line in decl.lines:
        found += employee_record_rules(decl, line, view)
    return found


def employee_record_rules(decl: Declaration, line: EmployeeLine, view: RecordsView) -> list[Finding]:
    if not line.registration:
        return []
    known = view.employee(line.registration)
    if known is None:
        return [
            finding(
                "DECL_REGISTRATION_UNKNOWN",
                f"Le matricule {line.registration} n'est pas connu des Caisses Sociales.",
                _at(line.location, "@registration", "registration"),
                "le matricule d'un salarié immatriculé, ou nom, prénom et date de naissance sans matricule",
            )
        ]
    found = []
    for given, recorded, xml, csv, what in (
        (line.last_name, known.last_name, "last-name", "last_name", "nom"),
        (line.first_name, known.first_name, "first-name", "first_name", "prénom"),
    ):
        if given and normal_name(given) != normal_name(recorded):
            # The recorded name is not shown: the matricule may not belong to this employer's staff.
            found.append(
                finding(
                    "DECL_NAME_MISMATCH",
                    f"Le {what} « {given} » ne correspond pas à celui enregistré pour le matricule "
                    f"{line.registration}.",
                    _at(line.location, xml, csv),
                    f"le {what} enregistré pour ce matricule",
                )
            )
    if line.birth_date and known.birth_date and line.birth_date != known.birth_date:
        found.append(
            finding(
                "DECL_BIRTH_DATE_MISMATCH",
                f"La date de naissance ne correspond pas à celle enregistrée pour le matricule "
                f"{line.registration}.",
                _at(line.location, "birth-date", "birth_date"),
                "la date de naissance enregistrée",
            )
        )
    hired = False
    for event in line.events:
        if event.type is EventType.HIRE and event.start is not None:
            hired = True
            before = event.start - ONE_DAY
            # Employed the day before and on the hire date: a continuing contract, not a new one.
            if view.is_employed(decl.employer, line.registration, before) and view.is_employed(
                decl.employer, line.registration, event.start
            ):
                found.append(
                    finding(
                        "DECL_HIRE_ALREADY_EMPLOYED",
                        f"Embauche le {event.start:%d/%m/%Y} du salarié {line.registration}, déjà "
                        "employé par cet employeur.",
                        _at(event.location, "@type", "event"),
                        "une embauche seulement pour un salarié non employé à cette date",
                    )
                )
        elif (
            event.type is EventType.DEPARTURE
            and event.end is not None
            and not hired
            and not view.is_employed(decl.employer, line.registration, event.end)
        ):
            found.append(
                finding(
                    "DECL_DEPARTURE_NOT_EMPLOYED",
                    f"Départ le {event.end:%d/%m/%Y} du salarié {line.registration}, qui n'est pas "
                    "employé par cet employeur à cette date.",
                    _at(event.location, "@type", "event"),
                    "un départ seulement pour un salarié employé à cette date",
                )
            )
    return found


# --- Helpers ---------------------------------------------------------------------------------------------


def normal_name(name: str | None) -> str:
    """Names compare without case, accents, or the difference between space, hyphen and apostrophe."""
    if not name:
        return ""
    bare = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    for sep in "-'’":
        bare = bare.replace(sep, " ")
    return " ".join(bare.casefold().split())


def _at(loc: Location, xml: str, csv: str) -> Location:
    """Narrow a location to a child (XML: an XPath step such as ``@start``; CSV: a column name)."""
    if loc.xpath is not None:
        return replace(loc, xpath=f"{loc.xpath}/{xml}" if xml else loc.xpath)
    return replace(loc, field=csv or loc.field, column=None if csv else loc.column)
