from __future__ import annotations

from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from gateway.errors import InputError, NotFound, StoreError
from gateway.registers import read_employees, read_permits
from gateway.store import db
from gateway.store.models import Base
from gateway.store.repo import Store


def test_models_and_migrations_agree(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_upgrade_twice_changes_nothing(store: Store) -> None:
    tables = set(inspect(store.engine).get_table_names())
    before, after = store.upgrade()
    assert before == after == db.head_revision()
    assert set(inspect(store.engine).get_table_names()) == tables


def test_an_old_schema_is_refused(config) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import PG_URL, reset_postgres

    if PG_URL:
        reset_postgres(PG_URL)
    with pytest.raises(StoreError, match="gateway db upgrade"):
        Store.open(config)


def test_subscribers_employers_assignments(store: Store) -> None:
    store.add_subscriber("123456", "Cabinet A", email="a@example.org", password="correct horse battery")
    store.add_employer("104512", "Boulangerie", "3 rue Basse")
    store.assign("123456", "104512", date(2026, 1, 1))
    view = store.records_view("123456")
    assert view.is_assigned("123456", "104512", date(2026, 5, 1))
    assert not view.is_assigned("123456", "104512", date(2025, 12, 31))
    assert not view.is_assigned("123456", "999999", date(2026, 5, 1))
    with pytest.raises(InputError, match="déjà"):
        store.assign("123456", "104512", date(2026, 2, 1))
    store.unassign("123456", "104512", date(2026, 6, 30))
    assert not view.is_assigned("123456", "104512", date(2026, 7, 1))
    with pytest.raises(NotFound):
        store.show_subscriber("999999")
    with pytest.raises(InputError, match="5 à 10 chiffres"):
        store.add_subscriber("12a45", "X")


def test_employee_import_is_all_or_nothing(store: Store) -> None:
    store.add_employer("104512", "Boulangerie")
    good = b"registration;last_name;first_name;birth_date;employer;start\n2001234;ROSSI;Giulia;14/03/1988;104512;2019-09-01\n"
    assert store.import_employees(read_employees(good)) == (1, 1)
    bad = (b"\xef\xbb\xbfregistration,last_name,first_name,birth_date,employer,start\n"
           b"2001235,MARTIN,Sophie,1992-07-02,104512,2021-01-04\n"
           b"2001236,DURAND,Paul,1990-01-01,999999,2021-01-04\n")
    with pytest.raises(InputError) as err:
        store.import_employees(read_employees(bad))
    assert err.value.line == 3 and err.value.column == "employer"
    assert store.records_view("x").employee("2001235") is None, "nothing half-imported"
    assert store.records_view("x").is_employed("104512", "2001234", date(2026, 1, 1))


@pytest.mark.parametrize(
    ("data", "line", "column"),
    [
        (b"registration;last_name;first_name;birth_date\n20012;A;B;1990-01-01\n", 2, "registration"),
        (b"registration;last_name;first_name;birth_date\n2001234;A;B;31/02/1990\n", 2, "birth_date"),
        (b"registration;last_name;first_name;birth_date\n2001234;A1;B;1990-01-01\n", 2, "last_name"),
        (b"registration;last_name;first_name\n", 1, None),
        (b"registration;last_name;first_name;birth_date;colour\n", 1, None),
        (b"registration;last_name;first_name;birth_date\n2001234;A;B\n", 2, None),
    ],
)
def test_register_rows_are_located(data: bytes, line: int, column: str | None) -> None:
    with pytest.raises(InputError) as err:
        read_employees(data)
    assert (err.value.line, err.value.column) == (line, column)


def test_permit_import(store: Store) -> None:
    store.add_employer("104512", "Boulangerie")
    store.import_employees(read_employees(b"registration;last_name;first_name;birth_date\n2001234;ROSSI;Giulia;1988-03-14\n"))
    rows = read_permits(b"employer;registration;valid_from;valid_to\n104512;2001234;2024-01-01;\n")
    assert store.import_permits(rows) == 1
    assert store.import_permits(rows) == 0, "importing the same register twice adds nothing"
    with pytest.raises(InputError) as err:
        store.import_permits(read_permits(b"employer;registration;valid_from\n104512;7777777;2024-01-01\n"))
    assert err.value.line == 2 and err.value.column == "registration"


def test_ssh_keys(store: Store) -> None:
    import base64

    store.add_subscriber("123456", "Cabinet A")
    blob = b"\x00\x00\x00\x0bssh-ed25519" + b"\x00\x00\x00\x20" + bytes(range(32))
    line = "ssh-ed25519 " + base64.b64encode(blob).decode() + " alice@laptop"
    fp = store.add_key("123456", line)
    assert fp.startswith("SHA256:") and store.show_subscriber("123456")["keys"] == [fp]
    with pytest.raises(InputError, match="déjà"):
        store.add_key("123456", line)
    with pytest.raises(InputError, match="type"):
        store.add_key("123456", "ssh-rsa " + base64.b64encode(blob).decode())


def test_demo_data_loads_once(store: Store) -> None:
    from gateway import demo

    assert demo.load(store) is True
    assert demo.load(store) is False
    subs = {s["number"]: s for s in store.list_subscribers()}
    assert len(subs["100001"]["employers"]) == 3 and len(subs["200001"]["employers"]) == 1
    assert len(store.list_employers()) == 4
