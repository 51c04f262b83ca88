"""Hand-built values for the renderer tests and the benchmark (no computation engine needed).

Names cover the hard cases: Łukasz Żółć, Nguyễn, Ægir, markup-looking text, a very long name.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

from gateway.domain import (
    AckDeclaration,
    Acknowledgement,
    AckPayslip,
    AppliedValue,
    ContributionLine,
    Declaration,
    ElementKind,
    EmployeeLine,
    Event,
    EventType,
    FileKind,
    Finding,
    FundTotal,
    ItemStatus,
    Location,
    Outcome,
    Overtime,
    PayElement,
    PayLine,
    Payslip,
    PayslipRequest,
    Period,
    RateUse,
    Severity,
    Share,
)

MONACO = ZoneInfo("Europe/Monaco")
HOSTILE = "Dupont & Fils <b>SARL</b>"
IMG = '<img src="http://example.invalid/x.png"/>'
LONG_NAME = (
    "Société Monégasque d'Exploitation des Établissements Hôteliers, Balnéaires et Thermaux "
    "de la Principauté et de ses Environs Immédiats — Division Restauration Collective"
)
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

FUNDS = (
    FundTotal("CCSS", "CCSS – maladie, maternité, famille", D("9850.00"), D("0.1345"), D("1324.83"), D("0.00")),
    FundTotal("CAR", "CAR – retraite de base", D("9850.00"), D("0.1516"), D("818.54"), D("674.73")),
    FundTotal("UNEMPLOYMENT", "Assurance chômage", D("9850.00"), D("0.0645"), D("399.00"), D("236.00")),
    FundTotal("CMRC_A", "CMRC – retraite complémentaire, tranche A", D("8944.00"), D("0.1002"), D("537.71"),
              D("358.48")),
)


def finding(n: int, *, severity: Severity = Severity.ERROR) -> Finding:
    return Finding(
        code=f"DECL-{100 + n % 7:03d}",
        message=f"Le salaire brut de la ligne {n} n'est pas un montant valide : « 12a »",
        severity=severity,
        location=Location(line=10 + n, column=3, field="gross"),
        expected="un montant de 0 à 9 999 999,99 avec au plus 2 décimales",
    )


def ack(*, capped: bool = False, test: bool = False, outcome: Outcome = Outcome.PARTLY_ACCEPTED) -> Acknowledgement:
    at = datetime(2026, 12, 11, 9, 15, 7, tzinfo=MONACO)
    many = tuple(finding(n) for n in range(1, 96)) if capped else ()
    declarations = (
        AckDeclaration(
            index=1, employer="104512", period="2026-11", status=ItemStatus.ACCEPTED, employees=3,
            total_gross=D("9850.00"), total_hours=D("400.67"), reference="DEC-2026-11-104512-0001",
            late=True, funds=FUNDS, employer_name=HOSTILE,
            findings=(Finding("RATE-STALE", "Le taux CCSS n'a pas été vérifié depuis plus de 6 mois",
                              Severity.WARNING),),
        ),
        AckDeclaration(
            index=2, employer="104513", period="2026-11", status=ItemStatus.REFUSED, employees=2,
            total_gross=D("4100.50"), total_hours=D("238.00"), employer_name=LONG_NAME,
            findings=(
                Finding("DECL-REG-UNKNOWN", f"Le matricule 2999999 est inconnu des Caisses {IMG}",
                        location=Location(line=14, column=5,
                                          xpath="/declarations/declaration[2]/employee[1]/@registration"),
                        expected="un matricule connu de 6 à 9 chiffres"),
                Finding("DECL-HIRE-EMPLOYED", "Embauche de Łukasz Żółć alors qu'il est déjà employé",
                        location=Location(line=22, column=7, xpath="/declarations/declaration[2]/employee[2]/event[1]")),
                *many,
            ),
        ),
    )
    return Acknowledgement(
        reference="ACK-20261211-0007",
        subscriber="1234567",
        file_name="décl nov 2026 <Nguyễn & Ægir>.xml",
        size=48213,
        sha256=SHA,
        received_at=at,
        processed_at=datetime(2026, 12, 11, 9, 15, 9, tzinfo=MONACO),
        outcome=outcome,
        kind=FileKind.DECLARATION,
        test=test,
        declarations=declarations,
        findings=(Finding("FILE-ENCODING", "Le fichier déclare ISO-8859-1 mais contient de l'UTF-8",
                          Severity.WARNING, Location(line=1, column=1)),),
        total_findings=250 if capped else 3,
        duplicate_of="ACK-20261210-0003" if outcome is Outcome.DUPLICATE else None,
        notes=("Les plafonds proratisés font l'objet d'une régularisation annuelle par les Caisses.",),
    )


def payslip_ack() -> Acknowledgement:
    at = datetime(2026, 12, 1, 8, 0, tzinfo=MONACO)
    return Acknowledgement(
        reference="ACK-20261201-0001", subscriber="1234567", file_name="bulletins.csv", size=812, sha256=SHA,
        received_at=at, processed_at=at, outcome=Outcome.PARTLY_ACCEPTED, kind=FileKind.PAYSLIP,
        payslips=(
            AckPayslip(1, "104512", "2026-11", "2001234", ItemStatus.ACCEPTED, D("3372.57"), D("2875.44"),
                       "104512/payslips/2026-11/2001234.pdf"),
            AckPayslip(2, "104512", "2026-11", "2009876", ItemStatus.REFUSED,
                       findings=(Finding("PAY-NOT-EMPLOYED", "Le salarié n'est pas dans l'effectif de l'employeur",
                                         location=Location(line=3, field="registration")),)),
        ),
        total_findings=1,
    )


def declaration() -> Declaration:
    lines = (
        EmployeeLine(D("3250.00"), D("169.00"), registration="2001234"),
        EmployeeLine(D("5400.00"), D("151.67"), registration="2009876", director=True,
                     events=(Event(EventType.SICKNESS, date(2026, 11, 10), date(2026, 11, 14)),
                             Event(EventType.PAID_LEAVE, date(2026, 11, 24), date(2026, 11, 28), D("35.00")))),
        EmployeeLine(D("1200.00"), D("80.00"), last_name="ŻÓŁĆ", first_name="Łukasz", birth_date=date(1994, 6, 30),
                     events=(Event(EventType.HIRE, start=date(2026, 11, 17)),)),
        EmployeeLine(D("2100.00"), D("120.00"), last_name="NGUYỄN", first_name="Văn An",
                     birth_date=date(1990, 1, 2)),
        EmployeeLine(D("2500.00"), D("151.67"), registration="2004444",
                     events=(Event(EventType.DEPARTURE, end=date(2026, 11, 20)),)),
    )
    return Declaration(employer="104512", period=Period(2026, 11), lines=lines)


DECL_NAMES = {
    1: (HOSTILE, IMG),
    2: ("ÞÓRSSON", "Ægir"),
    5: ("DE LA TOUR DU PIN CHAMBLY DE LA CHARCE-MONTGOLFIER-ESCLAVONNIÈRE", "Marie-Élisabeth-Joséphine"),
}
DECL_REGISTRATIONS = {3: "9000001", 4: "9000002"}


def _use(parameter: str, value: str) -> RateUse:
    return RateUse(parameter, date(2025, 10, 1), D(value), "https://www.caisses-sociales.mc/", checked=date(2026, 1, 5))


def _c(fund: str, share: Share, base: str, rate: str, amount: str, ceiling: str | None = None) -> ContributionLine:
    return ContributionLine(fund, share, D(base), D(rate), D(amount), _use(f"{fund.lower()}.{share}", rate),
                            ceiling=D(ceiling) if ceiling else None)


def payslip(*, employee_name: str = "ŻÓŁĆ Łukasz", employer_name: str = HOSTILE) -> Payslip:
    request = PayslipRequest(
        employer="104512", period=Period(2026, 11), registration="2001234", hourly_rate=D("19.50"),
        hours=D("151.67"), overtime=(Overtime(25, D(8)),),
        elements=(PayElement(ElementKind.BONUS, "Prime d'objectif", D("250.00")),
                  PayElement(ElementKind.BENEFIT_IN_KIND, "Repas", D("90.00")),
                  PayElement(ElementKind.ALLOWANCE, "Frais de transport", D("40.00")),
                  PayElement(ElementKind.DEDUCTION, "Absence non rémunérée", D("120.00"))),
    )
    return Payslip(
        request=request,
        employer_name=employer_name,
        employer_address="12 avenue des Spélugues, 98000 Monaco",
        employee_name=employee_name,
        earnings=(
            PayLine("Salaire de base", D("151.67"), D("19.50"), employee=D("2957.57")),
            PayLine("Heures supplémentaires à +25 %", D("8.00"), D("24.375"), employee=D("195.00")),
            PayLine("Prime d'objectif", employee=D("250.00")),
            PayLine("Avantage en nature : repas", employee=D("90.00")),
            PayLine(f"Absence non rémunérée {IMG}", employee=D("-120.00")),
        ),
        gross=D("3372.57"),
        contributions=(
            _c("CCSS", Share.EMPLOYER, "3372.57", "0.1345", "453.61", "9800.00"),
            _c("CAR", Share.EMPLOYEE, "3372.57", "0.0685", "231.02", "6112.00"),
            _c("CAR", Share.EMPLOYER, "3372.57", "0.0833", "280.94", "6112.00"),
            _c("UNEMPLOYMENT", Share.EMPLOYEE, "3372.57", "0.024", "80.94"),
            _c("UNEMPLOYMENT", Share.EMPLOYER, "3372.57", "0.04", "134.90"),
            _c("CMRC_A", Share.EMPLOYEE, "3372.57", "0.04008", "135.17", "3971.00"),
            _c("CMRC_A", Share.EMPLOYER, "3372.57", "0.06012", "202.76", "3971.00"),
        ),
        employee_contributions=D("447.13"),
        employer_contributions=D("1072.21"),
        non_subject=(
            PayLine("Frais de transport", employee=D("40.00"), subject=False),
            PayLine("Avantage en nature repris : repas", employee=D("-90.00"), subject=False),
        ),
        net=D("2875.44"),
        total_cost=D("4484.78"),
        payment_date=date(2026, 11, 30),
        notes=("Taux CCSS 2025-10-01 non confirmé : il sera régularisé si besoin.",),
        job="Chef de rang",
        qualification="Employé qualifié, coefficient 210",
    )


def computed_payslip(*, overtime_50: bool = True, employer_name: str = HOSTILE) -> Payslip:
    """A payslip from the real computation (gateway.rules.payslip) and the bundled rates."""
    from gateway.rules.payslip import compute_payslip
    from gateway.rules.rates import RateBook

    request = PayslipRequest(
        employer="104512", period=Period(2026, 11), registration="2001234", hourly_rate=D("19.50"),
        hours=D("151.67"), overtime=(Overtime(25, D(8)),) + ((Overtime(50, D("2.5")),) if overtime_50 else ()),
        elements=(PayElement(ElementKind.BONUS, "Prime d'objectif", D("250.00")),
                  PayElement(ElementKind.BENEFIT_IN_KIND, "Repas", D("90.00")),
                  PayElement(ElementKind.ALLOWANCE, "Frais de transport", D("40.00")),
                  PayElement(ElementKind.DEDUCTION, "Absence non rémunérée", D("120.00"))),
    )
    return compute_payslip(
        request, RateBook.load(), employer_name=employer_name, employer_address="12 avenue des Spélugues, 98000 Monaco",
        employee_name="NGUYỄN Văn An", building_trade=False, household=False, stale_after_days=365,
        employment=(date(2026, 11, 10), date(2026, 11, 30)), payment_date=date(2026, 11, 30),
    )


def applied_rates() -> tuple[AppliedValue, ...]:
    """The dated values a typical one-declaration acknowledgement lists (rates, ceilings, a formula)."""
    src = "https://www.caisses-sociales.mc/"
    since = date(2025, 10, 1)
    return (
        AppliedValue("car/employee", since, D("0.0685"), "rate", src, label="Taux CAR salarial"),
        AppliedValue("car/employer", since, D("0.0833"), "rate", src, label="Taux CAR patronal"),
        AppliedValue("car/ceiling", since, D("6112.00"), "amount", src, label="Plafond CAR"),
        AppliedValue("ccss/employer", since, D("0.1345"), "rate", src, unconfirmed=True,
                     label="Taux CCSS patronal"),
        AppliedValue("ccss/ceiling", since, D("9800.00"), "amount", src, label="Plafond CCSS"),
        AppliedValue("cmrc/ta_employee", date(2026, 1, 1), D("0.04008"), "rate", src,
                     label="Taux CMRC tranche A salarial"),
        AppliedValue("cmrc/ta_employer", date(2026, 1, 1), D("0.06012"), "rate", src,
                     label="Taux CMRC tranche A patronal"),
        AppliedValue("cmrc/ta_ceiling", date(2026, 1, 1), D("3971.00"), "amount", src,
                     label="Plafond CMRC tranche A"),
        AppliedValue("cmrc/ta_ceiling × cmrc/tb_factor", date(2026, 1, 1), D("31768.00"), "amount", src,
                     label="Plafond CMRC tranche B"),
        AppliedValue("unemployment/employee", date(2025, 1, 1), D("0.024"), "rate", src,
                     label="Taux chômage salarial"),
        AppliedValue("unemployment/employer", date(2025, 1, 1), D("0.04"), "rate", src,
                     label="Taux chômage patronal"),
        AppliedValue("working_time/monthly_hours", date(2000, 2, 1), D(169), "hours", src,
                     label="Durée mensuelle à temps plein"),
    )


def typical_ack(*, employees: int = 3, test: bool = False) -> Acknowledgement:
    """What most files get back: one declaration of a few employees, accepted, with the rates applied."""
    at = datetime(2026, 12, 9, 14, 2, 51, tzinfo=MONACO)
    decl = AckDeclaration(
        index=1, employer="104512", period="2026-11", status=ItemStatus.ACCEPTED, employees=employees,
        total_gross=D("9850.00"), total_hours=D("400.67"), reference="ACK-20261209-0412-1",
        late=False, funds=FUNDS, employer_name="Boulangerie du Rocher SARL",
    )
    return Acknowledgement(
        reference="ACK-20261209-0412", subscriber="100001", file_name="declaration-novembre-2026.xml",
        size=1873, sha256=SHA, received_at=at, processed_at=datetime(2026, 12, 9, 14, 2, 52, tzinfo=MONACO),
        outcome=Outcome.ACCEPTED, kind=FileKind.DECLARATION, test=test, declarations=(decl,),
        rates=applied_rates(),
    )


def large_declaration(employees: int = 300) -> tuple[Declaration, dict[int, tuple[str, str]]]:
    """A declaration of ``employees`` lines (one in seven with an event), and their names on record."""
    events = (Event(EventType.SICKNESS, date(2026, 11, 3), date(2026, 11, 7)),
              Event(EventType.PAID_LEAVE, date(2026, 11, 16), date(2026, 11, 20), D("35.00")))
    lines = tuple(
        EmployeeLine(D(f"{2000 + (n * 37) % 5000}.{n % 100:02d}"), D("151.67"), registration=f"{2000000 + n}",
                     director=n == 1, events=events[: 1 + n % 2] if n % 7 == 0 else ())
        for n in range(1, employees + 1)
    )
    names = {n: (f"NOM{n:04d}-{('MARTIN', 'ROSSI', 'NGUYỄN', 'ŻÓŁĆ')[n % 4]}", ("Paul", "Giulia", "Văn An", "Łukasz")[n % 4])
             for n in range(1, employees + 1)}
    return Declaration(employer="104512", period=Period(2026, 11), lines=lines), names
