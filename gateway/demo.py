"""Demo data for the embedded default: an accounting firm with three clients and an employer on its own.

Fictional people and companies. The names exercise what documents must render: Polish, Vietnamese and
Icelandic letters, an ampersand and markup-like characters in a company name.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from gateway.store.repo import EmployeeRow, PermitRow, Store

FIRM = ("100001", "Cabinet Comptable de la Riviera", "paie@cabinet-riviera.example")
SELF = ("200001", "Hôtel des Moneghetti SAM", "rh@moneghetti.example")
PASSWORD = "demo-riviera-2026"  # printed by `make run`; change it with `gateway subscriber set-password`

EMPLOYERS = [
    # number, name, address, building trade, subscriber
    ("104512", "Boulangerie du Rocher", "3 rue Basse, 98000 Monaco", False, FIRM[0]),
    ("104513", "Dupont & Fils <b>SARL</b>", "12 boulevard des Moulins, 98000 Monaco", False, FIRM[0]),
    ("104514", "Bâtiments Grimaldi SAM", "7 avenue de Fontvieille, 98000 Monaco", True, FIRM[0]),
    ("204001", "Hôtel des Moneghetti SAM", "1 avenue Pasteur, 98000 Monaco", False, SELF[0]),
]

EMPLOYEES = [
    # registration, last name, first name, birth date, employer, start
    ("2001234", "ROSSI", "Giulia", date(1988, 3, 14), "104512", date(2019, 9, 1)),
    ("2001235", "MARTIN", "Sophie", date(1992, 7, 2), "104512", date(2021, 1, 4)),
    ("2001236", "ŻÓŁĆ", "Łukasz", date(1985, 11, 23), "104512", date(2018, 5, 14)),
    ("2001237", "NGUYỄN", "Văn An", date(1999, 1, 30), "104512", date(2023, 3, 1)),
    ("2001238", "BERNARDI", "Luca", date(1975, 6, 9), "104512", date(2010, 2, 1)),
    ("2002001", "DUPONT", "Jean-Pierre", date(1962, 4, 18), "104513", date(1995, 1, 2)),
    ("2002002", "DUPONT", "Marie-Hélène", date(1990, 12, 5), "104513", date(2016, 9, 1)),
    ("2002003", "O'BRIEN", "Siobhán", date(1983, 8, 21), "104513", date(2020, 10, 12)),
    ("2002004", "GARCÍA LÓPEZ", "José", date(1979, 2, 27), "104513", date(2012, 6, 1)),
    ("2002005", "PETIT", "Camille", date(2001, 10, 10), "104513", date(2024, 2, 1)),
    ("2003001", "ÞÓRSSON", "Ægir", date(1987, 5, 5), "104514", date(2017, 4, 3)),
    ("2003002", "FERREIRA", "João", date(1981, 9, 15), "104514", date(2014, 3, 17)),
    ("2003003", "MÜLLER", "Jürgen", date(1970, 1, 12), "104514", date(2008, 11, 3)),
    ("2003004", "LEFÈVRE", "Amélie", date(1995, 3, 28), "104514", date(2022, 7, 1)),
    ("2003005", "KOWALSKA", "Zofia", date(1993, 6, 6), "104514", date(2021, 4, 19)),
    ("2004001", "GIORDANO", "Francesca", date(1986, 2, 2), "204001", date(2015, 5, 1)),
    ("2004002", "SMITH", "Oliver", date(1991, 11, 11), "204001", date(2019, 6, 1)),
    ("2004003", "BENALI", "Yasmine", date(1997, 7, 7), "204001", date(2022, 1, 10)),
    ("2004004", "ANDERSSON", "Björn", date(1984, 4, 4), "204001", date(2016, 3, 1)),
    ("2004005", "CARUSO", "Matteo", date(1999, 12, 24), "204001", date(2023, 9, 4)),
    ("2004006", "LAMBERT", "Chloé", date(2003, 8, 15), "204001", date(2024, 11, 1)),
]


def load(store: Store, since: date = date(2024, 1, 1)) -> bool:
    """Load the demo records; False (and nothing written) when they are already there."""
    if any(s["number"] == FIRM[0] for s in store.list_subscribers()):
        return False
    verified = datetime(2024, 1, 2, 9, 0, tzinfo=UTC)
    for number, name, email in (FIRM, SELF):
        store.add_subscriber(number, name, email=email, password=PASSWORD)
        store.set_email(number, email, code=None, verified_at=verified)
    for number, name, address, building, subscriber in EMPLOYERS:
        store.add_employer(number, name, address, building_trade=building)
        store.assign(subscriber, number, since)
    store.import_employees(
        EmployeeRow(reg, last, first, born, employer, start) for reg, last, first, born, employer, start in EMPLOYEES
    )
    store.import_permits(
        PermitRow(employer, reg, start, None) for reg, _l, _f, _b, employer, start in EMPLOYEES
    )
    return True
