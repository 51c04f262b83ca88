"""The employer's account (compte cotisant) as values: entries never changed once written, and what a
period owes, what was collected and what is left, always computed from them.

Sign: an entry's amount is what it adds to what the employer owes. A declaration adds its contributions;
a complementary declaration adds its own; a rectifying declaration replaces the period's figures, so its
entry is the difference from what was owed before (negative when it lowers them); a collection exported in
a pain.008 is negative (collected); a returned or rejected collection reverses it (positive: owed again).
A collection settles every period up to the one it is exported for: it is written as one entry per period
it settles (:func:`allocate`), so that each period's balance stays exact whatever the order of exports.

Every document that shows an amount owed (statement, pain.008, correction notice, ``gateway account``)
reads it from here; none sums contributions of its own.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from gateway.domain import FundTotal, Share
from gateway.money import ZERO
from gateway.rules.contributions import FUNDS, Amount, fund_totals

DECLARATION, COMPLEMENTARY, RECTIFYING = "declaration", "complementary", "rectifying"
COLLECTION, RETURN = "collection", "return"
CHARGES = (DECLARATION, COMPLEMENTARY, RECTIFYING)  # entries that say what a period owes
KINDS = (*CHARGES, COLLECTION, RETURN)

KIND_FR = {DECLARATION: "déclaration", COMPLEMENTARY: "déclaration complémentaire",
           RECTIFYING: "déclaration rectificative", COLLECTION: "prélèvement", RETURN: "prélèvement rejeté"}
_DECLARATION_KIND = {"original": DECLARATION, "complementary": COMPLEMENTARY, "rectifying": RECTIFYING}


def entry_kind(declaration_kind: str) -> str:
    """The entry kind of a declaration kind (original, complementary, rectifying)."""
    return _DECLARATION_KIND[declaration_kind]


@dataclass(frozen=True, slots=True)
class ShareLine:
    """One fund and share of an entry: the base it is on, the rate (None when its lines had several) and
    the amount. In a rectifying entry, base and amount are differences; the rate is the new one."""

    fund: str
    share: Share
    base: Decimal
    rate: Decimal | None
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the account. ``source`` names what made it: a declaration's reference, a collection's
    EndToEndId. ``period`` is the period it belongs to (a collection: the period it was exported for)."""

    kind: str
    period: str
    amount: Decimal
    source: str
    at: datetime
    lines: tuple[ShareLine, ...] = ()
    note: str = ""
    id: int | None = None


def share_lines(contributions: Iterable[Amount], totals: Sequence[FundTotal] | None = None) -> tuple[ShareLine, ...]:
    """The lines of a declaration's entry from its contribution lines: per fund and share, by the rule of
    the declaration's own totals (:func:`fund_totals`: sums of rounded lines, unemployment to the euro;
    ``totals`` when the caller has them already)."""
    lines = list(contributions)
    rates: dict[tuple[str, Share], set[Decimal]] = defaultdict(set)
    for c in lines:
        rates[(c.fund, c.share)].add(c.rate)
    out = []
    for total in fund_totals(lines) if totals is None else totals:
        for share, amount in ((Share.EMPLOYER, total.employer), (Share.EMPLOYEE, total.employee)):
            seen = rates.get((total.fund, share))
            if not seen:
                continue
            rate = next(iter(seen)) if len(seen) == 1 else None
            out.append(ShareLine(total.fund, share, total.base, rate, amount))
    return tuple(out)


def _key(line: ShareLine) -> tuple[int, int]:
    order = list(FUNDS)
    return (order.index(line.fund) if line.fund in order else len(order), list(Share).index(line.share))


def owed_lines(entries: Iterable[Entry], period: str) -> tuple[ShareLine, ...]:
    """What ``period`` owes per fund and share: the sum of its charge entries. The rate shown is the one
    its lines agree on (None when they do not)."""
    base: dict[tuple[str, Share], Decimal] = defaultdict(lambda: ZERO)
    amount: dict[tuple[str, Share], Decimal] = defaultdict(lambda: ZERO)
    rates: dict[tuple[str, Share], set[Decimal | None]] = defaultdict(set)
    for e in entries:
        if e.period != period or e.kind not in CHARGES:
            continue
        for line in e.lines:
            k = (line.fund, line.share)
            base[k] += line.base
            amount[k] += line.amount
            if line.base or line.amount:
                rates[k].add(line.rate)
    out = []
    for (fund, share), total in amount.items():
        seen = rates[(fund, share)]
        if not total and not base[(fund, share)]:
            continue
        rate = next(iter(seen)) if len(seen) == 1 else None
        out.append(ShareLine(fund, share, base[(fund, share)], rate, total))
    return tuple(sorted(out, key=_key))


def difference(now: Sequence[ShareLine], before: Sequence[ShareLine]) -> tuple[ShareLine, ...]:
    """The lines that turn ``before`` into ``now`` (a rectifying declaration's entry)."""
    old = {(x.fund, x.share): x for x in before}
    new = {(x.fund, x.share): x for x in now}
    out = []
    for k in dict.fromkeys([*new, *old]):
        n, o = new.get(k), old.get(k)
        base = (n.base if n else ZERO) - (o.base if o else ZERO)
        amount = (n.amount if n else ZERO) - (o.amount if o else ZERO)
        if base or amount:
            out.append(ShareLine(k[0], k[1], base, n.rate if n else (o.rate if o else None), amount))
    return tuple(sorted(out, key=_key))


def total(lines: Iterable[ShareLine]) -> Decimal:
    return sum((x.amount for x in lines), ZERO)


def charge_entry(*, declaration_kind: str, period: str, source: str, at: datetime,
                 contributions: Iterable[Amount], earlier: Iterable[Entry], note: str = "",
                 totals: Sequence[FundTotal] | None = None) -> Entry:
    """The entry a recorded declaration adds; ``earlier`` are the account's entries before it."""
    kind = entry_kind(declaration_kind)
    lines = share_lines(contributions, totals)
    if kind == RECTIFYING:
        lines = difference(lines, owed_lines(earlier, period))
    return Entry(kind, period, total(lines), source, at, lines, note)


def balance(entries: Iterable[Entry], *, up_to: str | None = None, before: str | None = None) -> Decimal:
    """The sum of the entries of the periods up to (or before) a period: what is left to pay (negative: a
    credit)."""
    return sum((e.amount for e in entries
                if (up_to is None or e.period <= up_to) and (before is None or e.period < before)), ZERO)


def allocate(entries: Iterable[Entry], up_to: str) -> tuple[tuple[str, Decimal], ...]:
    """How a collection of everything owed up to ``up_to`` is spread over the periods: each period's
    balance, so that every period up to it is settled (a credit is used up: its share is positive). Empty
    when the sum is not positive (a credit is never debited). The shares add up to the amount collected."""
    per: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for e in entries:
        if e.period <= up_to:
            per[e.period] += e.amount
    if sum(per.values(), ZERO) <= 0:
        return ()
    return tuple((p, amount) for p, amount in sorted(per.items()) if amount)


@dataclass(frozen=True, slots=True)
class FundRow:
    """One fund of a statement or a notice: base, each share's rate and amount. A rate is None when the
    share's lines had several; a share the fund does not have is not in ``shares``."""

    fund: str
    label: str
    base: Decimal
    employer_rate: Decimal | None
    employer: Decimal
    employee_rate: Decimal | None
    employee: Decimal
    shares: frozenset[Share] = frozenset(Share)

    @property
    def total(self) -> Decimal:
        return self.employer + self.employee


def fund_rows(lines: Iterable[ShareLine]) -> tuple[FundRow, ...]:
    """Share lines gathered per fund, in the funds' order (the base is the employer line's, both shares of a
    fund being on the same base)."""
    by_fund: dict[str, dict[Share, ShareLine]] = defaultdict(dict)
    for line in lines:
        by_fund[line.fund][line.share] = line
    rows = []
    for fund in sorted(by_fund, key=lambda f: list(FUNDS).index(f) if f in FUNDS else len(FUNDS)):
        er, ee = by_fund[fund].get(Share.EMPLOYER), by_fund[fund].get(Share.EMPLOYEE)
        base = er.base if er else (ee.base if ee else ZERO)
        rows.append(FundRow(fund, FUNDS.get(fund, fund), base, er.rate if er else None,
                            er.amount if er else ZERO, ee.rate if ee else None, ee.amount if ee else ZERO,
                            frozenset(by_fund[fund])))
    return tuple(rows)


@dataclass(frozen=True, slots=True)
class StatementFigures:
    """What a statement of one period says, all from the account at the time it is made.

    ``carried`` is the balance of the earlier periods (negative: a credit), ``collected`` what was already
    collected for this period (positive), ``balance`` what is left: period total + carried - collected.
    ``to_debit`` is the balance when positive; a negative balance is a credit carried to the next statement.
    """

    employer: str
    period: str
    funds: tuple[FundRow, ...]
    declarations: tuple[str, ...]
    period_total: Decimal
    carried: Decimal
    collected: Decimal

    @property
    def balance(self) -> Decimal:
        return self.period_total + self.carried - self.collected

    @property
    def to_debit(self) -> Decimal:
        return max(self.balance, ZERO)

    @property
    def credit(self) -> Decimal:
        return max(-self.balance, ZERO)

    def fingerprint(self) -> str:
        """A digest of what the period owes (its declarations and their figures): a new version is due when
        a correction changes it. A collection or a balance elsewhere moving does not make one."""
        parts = [self.employer, self.period, *self.declarations, str(self.period_total)]
        parts += [f"{r.fund}:{r.base}:{r.employer_rate}:{r.employer}:{r.employee_rate}:{r.employee}"
                  for r in self.funds]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()


def statement_figures(employer: str, period: str, entries: Sequence[Entry]) -> StatementFigures:
    charges = [e for e in entries if e.period == period and e.kind in CHARGES]
    collected = -sum((e.amount for e in entries if e.period == period and e.kind in (COLLECTION, RETURN)), ZERO)
    return StatementFigures(
        employer=employer, period=period, funds=fund_rows(owed_lines(entries, period)),
        declarations=tuple(e.source for e in charges), period_total=sum((e.amount for e in charges), ZERO),
        carried=balance(entries, before=period), collected=collected)


@dataclass(frozen=True, slots=True)
class FundChange:
    """One fund of a correction notice: what was owed before the correction, what is owed now."""

    fund: str
    label: str
    before_employer: Decimal
    before_employee: Decimal
    now_employer: Decimal
    now_employee: Decimal

    @property
    def before(self) -> Decimal:
        return self.before_employer + self.before_employee

    @property
    def now(self) -> Decimal:
        return self.now_employer + self.now_employee

    @property
    def difference(self) -> Decimal:
        return self.now - self.before


def fund_changes(before: Sequence[ShareLine], now: Sequence[ShareLine]) -> tuple[FundChange, ...]:
    old = {r.fund: r for r in fund_rows(before)}
    new = {r.fund: r for r in fund_rows(now)}
    funds = sorted({*old, *new}, key=lambda f: list(FUNDS).index(f) if f in FUNDS else len(FUNDS))
    z = FundRow("", "", ZERO, None, ZERO, None, ZERO)
    return tuple(FundChange(f, FUNDS.get(f, f), old.get(f, z).employer, old.get(f, z).employee,
                            new.get(f, z).employer, new.get(f, z).employee) for f in funds)


@dataclass(frozen=True)
class CorrectionNotice:
    """The notice a correction sends to the employer's outbox (PDF and XML) and by e-mail."""

    reference: str  # the correction's own reference (the declaration it recorded)
    original_reference: str
    kind: str  # complementary | rectifying
    reason: str
    employer: str
    employer_name: str
    employer_address: str
    subscriber: str
    period: str
    recorded_at: datetime
    funds: tuple[FundChange, ...]
    due_on: date | None = None  # when the difference is due (None: nothing more to pay)
    direct_debit: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def before(self) -> Decimal:
        return sum((f.before for f in self.funds), ZERO)

    @property
    def now(self) -> Decimal:
        return sum((f.now for f in self.funds), ZERO)

    @property
    def difference(self) -> Decimal:
        return self.now - self.before
