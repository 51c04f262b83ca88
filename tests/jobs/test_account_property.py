"""For any sequence of declarations, corrections, exports and returns: what a period owes is what its
declarations say (a rectifying one replacing, a complementary one adding), each statement's amount is the sum
of the account's entries, an export collects exactly what is left (never a credit), exporting again gives
the same bytes, and no EndToEndId is ever collected twice."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.clock import Clock
from gateway.config import Config
from gateway.domain import Period
from gateway.errors import InputError
from gateway.formats import read
from gateway.incidents import import_report
from gateway.pipeline import Pipeline
from gateway.rules.account import balance, statement_figures
from gateway.sepa import export
from gateway.store.account import AccountStore
from gateway.store.models import SepaBatch
from gateway.workers import InlinePool
from tests.intake.helpers import decl, declaration_xml
from tests.jobs.bank import pain002
from tests.jobs.conftest import MONACO, at, on_direct_debit

ONE = '<employee registration="2001234"><gross>{}</gross><hours>169.00</hours></employee>'
gross = st.integers(min_value=0, max_value=2_000_000).map(lambda c: f"{Decimal(c) / 100:.2f}")
operation = st.one_of(
    st.tuples(st.sampled_from(["original", "complementary", "rectifying"]), st.integers(0, 1), gross),
    st.tuples(st.just("export"), st.integers(0, 1), st.just("")),
    st.tuples(st.just("return"), st.integers(0, 3), st.just("")),
    st.tuples(st.just("clear"), st.just(0), st.just("")),
)
_examples = itertools.count()


def _batches(store: Any) -> list[bytes]:
    from sqlalchemy import select

    with store.tx(read=True) as s:
        return list(s.scalars(select(SepaBatch.xml).order_by(SepaBatch.id)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=9))
# a credit in one period used up by the collection of the next one
@example(ops=[("original", 0, "6000.00"), ("export", 0, ""), ("rectifying", 0, "2000.00"),
              ("original", 1, "9000.00"), ("export", 1, "")])
# the later period collected first, then a correction of the earlier one: only the difference is collected
@example(ops=[("original", 0, "6000.00"), ("original", 1, "3000.00"), ("export", 1, ""),
              ("complementary", 0, "100.00"), ("export", 0, ""), ("return", 0, ""), ("clear", 0, ""),
              ("export", 1, "")])
def test_statements_exports_and_account_always_agree(jconfig: Config, jstore: Any, ops: list[Any]) -> None:
    if not AccountStore(jstore).debtors():
        on_direct_debit(jstore)
    n = next(_examples)
    periods = [Period(2031 + n // 6, 2 * (n % 6) + 1), Period(2031 + n // 6, 2 * (n % 6) + 2)]  # own per example
    now = at(periods[1].year + 1, 3, 1)
    pipeline = Pipeline(jconfig, jstore, clock=Clock(MONACO, now), pool=InlinePool())
    account = AccountStore(jstore)
    employer_id = account.employer_id("104512")
    expected: dict[str, Decimal] = {}  # what each period owes, from the declarations' own totals
    originals: dict[str, int] = {}
    for step, (kind, index, amount) in enumerate(ops):
        period = periods[index % 2]
        p = str(period)
        if kind in ("original", "complementary", "rectifying"):
            if kind == "original" and p in originals:
                kind = "complementary"
            if kind != "original" and p not in originals:
                kind = "original"
            value = read(declaration_xml(decl("104512", p, ONE.format(amount))), "p.xml").value
            d = value.declarations[0]  # type: ignore[union-attr]
            result = pipeline._contributions(d)
            total = sum((t.employer + t.employee for t in result.totals), Decimal("0.00"))
            decl_id = pipeline.intake.record_declaration(
                file_id=None, reference=f"P{n}-{step}", decl=d, late=False, received_at=now, recorded_at=now,
                kind=kind, corrects_id=originals.get(p), reason=None if kind == "original" else "essai")
            assert decl_id is not None
            pipeline.intake.save_contributions(decl_id, result, now)
            originals.setdefault(p, decl_id)
            expected[p] = total if kind in ("original", "rectifying") else expected[p] + total
        elif kind == "export":
            before = balance(account.entries(employer_id), up_to=p)
            suspended = jstore.show_employer("104512")["payment_incident_at"] is not None
            try:
                batch = export(jconfig, jstore, period, now.date(), now)
            except InputError:
                assert before <= 0 or suspended
                continue
            after = balance(account.entries(employer_id), up_to=p)
            if batch.again or suspended:
                assert after == before
            else:
                assert batch.total == before > 0 and after == 0
                settled = account.entries(employer_id)  # every period up to it settled, not only their sum
                assert all(balance([e for e in settled if e.period == q], up_to=q) == 0
                           for q in {e.period for e in settled if e.period <= p})
            again = export(jconfig, jstore, period, now.date(), now)
            last = account.latest_batch(p)
            assert again.again and last is not None and again.xml == last.xml
        elif kind == "return":
            from sqlalchemy import select

            from gateway.store.models import SepaCollection

            with jstore.tx(read=True) as s:
                open_ = list(s.execute(select(SepaCollection.end_to_end_id, SepaCollection.amount)
                                       .where(SepaCollection.status == "exported").order_by(SepaCollection.id)))
            if not open_:
                continue
            e2e, collected = open_[index % len(open_)]
            before = balance(account.entries(employer_id))
            report = import_report(jconfig, jstore, pain002(f"R{n}-{step}", [(e2e, collected, "AM04")]), "r.xml", now)
            assert [a.end_to_end_id for a in report.applied] == [e2e]
            assert balance(account.entries(employer_id)) == before + collected
        else:
            account.clear_incident("104512")

        entries = account.entries(employer_id)
        for q in map(str, periods):
            figures = statement_figures("104512", q, entries)
            assert figures.period_total == expected.get(q, Decimal("0.00"))
            assert figures.balance == balance(entries, up_to=q)  # what a statement says is the account's sum
            assert figures.to_debit - figures.credit == figures.balance
    ids = [e.text for xml in _batches(jstore) for e in etree.fromstring(xml).iter("{*}EndToEndId")]
    assert len(ids) == len(set(ids)), "an EndToEndId collected twice"
