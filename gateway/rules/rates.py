"""Monaco's rates and ceilings as dated data: the loader, the book, the lookup and the staleness warnings.

One parameter per TOML file under ``gateway/rates/`` (its name is the path without ``.toml``, e.g.
``car/employee``); dates are keys; each value carries its source, a grade and the date someone last checked
it (see ``gateway/rates/README.md``). Read with exact decimals (``parse_float=Decimal``), never floats.
Each parameter has a short French ``label`` (« Plafond CAR ») that accountants read in acknowledgements and
warnings; the name stays the machine identifier.

Merge rule for the operator's ``rates_dir``: a file there must name a parameter the package already has
(same relative path, same unit). Its dated values are added to the package's; a date present in both is
replaced by the operator's value. The package's description and label are kept (an operator file may omit
``label``). Nothing can be removed: to end a value, add a newer date.

A lookup returns the latest value starting on or before the date asked; no value in force is a
:class:`RateError` naming the parameter and the date — never a silent default.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.domain import NOWHERE, Finding, Location, RateUse, Severity
from gateway.errors import RateError
from gateway.money import format_eur, format_rate

if TYPE_CHECKING:
    from gateway.config import Config

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "rates"

_DATE_KEY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NAME = re.compile(r"^[a-z0-9_]+(/[a-z0-9_]+)*$")
_FIRST_DATE = date(1990, 1, 1)  # anything earlier is a typo, not a Monaco rate this gateway will use
_LAST_DATE = date(2100, 12, 31)
_TOP_KEYS = {"label", "description", "unit", "values"}
LABEL_MAX = 32  # characters: a label fits the first column of the acknowledgement's rates table
_VALUE_KEYS = {"value", "source", "grade", "checked", "note", "unconfirmed", "components"}
_IGNORED_SUFFIXES = {".md", ".txt"}  # documentation may live next to the data

_Bad = Callable[..., RateError]  # the per-file error factory: bad(message, on=None)


class Grade(StrEnum):
    """How far a value can be trusted (reference: monaco.md)."""

    CSM = "CSM"
    JDM = "JdM"
    CLEISS = "CLEISS"
    THIRD = "3rd"
    DERIVED = "DERIVED"
    UNCONFIRMED = "UNCONFIRMED"


_WEAK_GRADES = {Grade.THIRD, Grade.UNCONFIRMED}  # not authoritative: flagged as unconfirmed


class Unit(StrEnum):
    """What a value is; each unit has its own accepted range (a guard against slipped digits)."""

    RATE = "rate"  # a fraction: 0.0685 for 6,85 %
    AMOUNT = "amount"  # euros, at most 2 decimals
    FRACTION = "fraction"  # a share of a whole: 0.60, 0.33
    FACTOR = "factor"  # a multiplier: 8 (tranche B up to 8 × TA)
    FLAG = "flag"  # 0 or 1
    HOURS = "hours"


_RANGES: dict[Unit, tuple[Decimal, Decimal, bool]] = {  # low, high, low is exclusive
    Unit.RATE: (Decimal(0), Decimal("0.5"), False),
    Unit.AMOUNT: (Decimal(0), Decimal(1_000_000), True),
    Unit.FRACTION: (Decimal(0), Decimal(1), False),
    Unit.FACTOR: (Decimal(0), Decimal(100), True),
    Unit.FLAG: (Decimal(0), Decimal(1), False),
    Unit.HOURS: (Decimal(0), Decimal(744), True),
}


@dataclass(frozen=True, slots=True)
class DatedValue:
    """One value of a parameter, in force from ``since`` until the next one."""

    since: date
    value: Decimal
    source: str
    grade: Grade
    checked: date
    origin: str  # the file it was read from (operator overrides show here)
    note: str | None = None
    flagged_unconfirmed: bool = False
    components: tuple[tuple[str, Decimal], ...] = ()

    @property
    def unconfirmed(self) -> bool:
        return self.flagged_unconfirmed or self.grade in _WEAK_GRADES


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str  # the machine identifier, ``car/ceiling``
    label: str  # for people, in French: « Plafond CAR »
    description: str
    unit: Unit
    values: tuple[DatedValue, ...]  # sorted by ``since``, one per date
    dates: tuple[date, ...] = field(init=False, repr=False)  # the ``since`` of each value, for bisect
    # the RateUse of each value, made once (a month's declarations look the same values up for every employee)
    _uses: dict[int, RateUse] = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dates", tuple(v.since for v in self.values))

    def _index(self, on: date) -> int:
        i = bisect_right(self.dates, on)
        if i == 0:
            raise RateError(
                f"aucune valeur de « {self.label} » ({self.name}) en vigueur le {on:%d/%m/%Y}",
                parameter=self.name, on=on,
            )
        return i - 1

    def at(self, on: date) -> DatedValue:
        """The value in force on ``on``; RateError naming the parameter and the date otherwise."""
        return self.values[self._index(on)]

    def use(self, on: date) -> RateUse:
        i = self._index(on)
        use = self._uses.get(i)
        if use is None:
            v = self.values[i]
            use = self._uses[i] = RateUse(
                parameter=self.name, since=v.since, value=v.value, source=v.source,
                unconfirmed=v.unconfirmed, checked=v.checked, components=v.components, label=self.label,
            )
        return use


@dataclass(frozen=True)
class RateBook:
    """Every parameter, from the package's data and the operator's optional ``rates_dir``."""

    parameters: Mapping[str, Parameter]
    sources: tuple[str, ...] = ()  # the directories read, package first

    @classmethod
    def load(cls, rates_dir: Path | None = None, *, package_dir: Path = PACKAGE_DIR) -> RateBook:
        """Read the package's data, then merge ``rates_dir`` over it (see the module docstring)."""
        params = {p.name: p for p in _read_dir(package_dir)}
        dirs = [str(package_dir)]
        if rates_dir is not None:
            if not rates_dir.is_dir():
                raise RateError(f"{rates_dir}: dossier de taux introuvable (paths.rates_dir)")
            for extra in _read_dir(rates_dir, operator=True):
                params[extra.name] = _merge(params.get(extra.name), extra)
            dirs.append(str(rates_dir))
        return cls(dict(sorted(params.items())), tuple(dirs))

    @classmethod
    def from_config(cls, config: Config) -> RateBook:
        """The book of the configuration: the package's data and ``paths.rates_dir`` if set."""
        return cls.load(config.rates_dir)

    def parameter(self, name: str) -> Parameter:
        try:
            return self.parameters[name]
        except KeyError:
            raise RateError(f"paramètre de taux inconnu « {name} »", parameter=name) from None

    def value(self, parameter: str, on: date) -> RateUse:
        """The value of ``parameter`` in force on ``on``, with where it comes from."""
        return self.parameter(parameter).use(on)

    def in_force(self, on: date) -> Iterator[tuple[Parameter, DatedValue | None]]:
        """Every parameter with its value on ``on`` (None when it has none yet)."""
        for p in self.parameters.values():
            try:
                yield p, p.at(on)
            except RateError:
                yield p, None


# --- Warnings about the values used ----------------------------------------------------------------


def is_stale(checked: date | None, on: date, stale_after_days: int) -> bool:
    """A value last checked more than ``stale_after_days`` before the date it is applied on."""
    return checked is not None and (on - checked).days > stale_after_days


@dataclass
class RateLookup:
    """The book as seen by one computation: every value looked up is remembered for the warnings."""

    book: RateBook
    used: dict[tuple[str, date], tuple[RateUse, date]] = field(default_factory=dict)

    def get(self, parameter: str, on: date) -> RateUse:
        use = self.book.value(parameter, on)
        key = (use.parameter, use.since)
        if key not in self.used or self.used[key][1] < on:  # keep the latest date: the stalest view
            self.used[key] = (use, on)
        return use

    def findings(self, stale_after_days: int, location: Location = NOWHERE) -> tuple[Finding, ...]:
        """RATE_UNCONFIRMED and RATE_STALE warnings, one per value used, in parameter order."""
        out: list[Finding] = []
        for use, on in sorted(self.used.values(), key=lambda u: (u[0].parameter, u[0].since)):
            name = use.label or use.parameter  # named for people: « Plafond CAR », not car/ceiling
            if use.unconfirmed:
                out.append(Finding(
                    "RATE_UNCONFIRMED",
                    f"valeur non confirmée utilisée : « {name} » = "
                    f"{describe(use.value, self.book.parameter(use.parameter).unit)} depuis le "
                    f"{use.since:%d/%m/%Y} (source : {use.source}) ; à confirmer auprès des Caisses",
                    Severity.WARNING, location,
                ))
            if is_stale(use.checked, on, stale_after_days):
                assert use.checked is not None
                out.append(Finding(
                    "RATE_STALE",
                    f"la valeur de « {name} » en vigueur depuis le {use.since:%d/%m/%Y} a été "
                    f"vérifiée pour la dernière fois le {use.checked:%d/%m/%Y}, plus de {stale_after_days} "
                    f"jours avant le {on:%d/%m/%Y} : à revérifier",
                    Severity.WARNING, location,
                ))
        return tuple(out)


def missing_rate_finding(exc: RateError, location: Location = NOWHERE) -> Finding:
    """The RATE_MISSING error for a computation that found no value in force (message names rate + date)."""
    return Finding("RATE_MISSING", f"calcul impossible : {exc}", Severity.ERROR, location)


def describe(value: Decimal, unit: Unit | None = None) -> str:
    """A value for people, in French: ``6,85 %``, ``3 947,00 €``, ``8``."""
    if unit is Unit.AMOUNT:
        return f"{format_eur(value)} €"
    if unit in (Unit.RATE, Unit.FRACTION) or (unit is None and 0 < value < 1):
        return format_rate(value)
    return f"{value.normalize():f}".replace(".", ",")


# --- Reading the files -------------------------------------------------------------------------------


def _read_dir(root: Path, *, operator: bool = False) -> list[Parameter]:
    out = []
    for path in sorted(root.rglob("*")):
        if path.is_dir() or path.name.startswith(".") or path.suffix in _IGNORED_SUFFIXES:
            continue
        if path.suffix != ".toml":
            raise RateError(f"{path}: fichier inattendu dans un dossier de taux (seuls les .toml sont lus)")
        name = path.relative_to(root).with_suffix("").as_posix()
        out.append(read_file(path, name, operator=operator))
    return out


def read_file(path: Path, name: str, *, operator: bool = False) -> Parameter:
    """One parameter file → :class:`Parameter`; RateError naming the file (and the date) otherwise.

    ``operator``: a file of the operator's ``rates_dir``, which may omit ``label`` (the package's is kept).
    """
    def bad(message: str, on: object = None) -> RateError:
        return RateError(f"{path}: {message}", parameter=name, on=on)

    if not _NAME.match(name):
        raise bad(f"nom de paramètre invalide « {name} » (minuscules, chiffres, _ et /)")
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:  # also duplicate keys and duplicate tables
        raise bad(f"TOML invalide : {exc}") from None
    except OSError as exc:
        raise bad(f"lecture impossible : {exc}") from None
    _no_unknown(data, _TOP_KEYS, bad, "")
    label = _label(data.get("label"), operator, bad)
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        raise bad("« description » manquante")
    try:
        unit = Unit(data.get("unit"))
    except ValueError:
        raise bad(f"« unit » doit valoir {', '.join(u.value for u in Unit)}") from None
    raw_values = data.get("values")
    if not isinstance(raw_values, dict) or not raw_values:
        raise bad("aucune valeur : une table [values.\"AAAA-MM-JJ\"] au moins est attendue")
    values: dict[date, DatedValue] = {}
    for key, entry in raw_values.items():
        since = _date_key(key, bad)
        if since in values:  # same day spelt twice: refused, whichever spelling
            raise bad(f"date en double {since.isoformat()}", since)
        values[since] = _dated_value(entry, since, unit, str(path), bad)
    return Parameter(name, label, description.strip(), unit, tuple(values[d] for d in sorted(values)))


def _label(raw: object, operator: bool, bad: _Bad) -> str:
    """The short French label: required in the package's files, optional in the operator's."""
    if raw is None and operator:
        return ""
    if not isinstance(raw, str) or not raw.strip():
        raise bad("« label » manquant : un libellé court en français, p. ex. « Plafond CAR »")
    label = raw.strip()
    # control characters (a line break) refused; a no-break space is fine
    if len(label) > LABEL_MAX or any(unicodedata.category(c) == "Cc" for c in label):
        raise bad(f"« label » trop long ou sur plusieurs lignes ({LABEL_MAX} caractères au plus, une ligne)")
    return label


def _date_key(key: str, bad: _Bad) -> date:
    if not _DATE_KEY.match(key):
        raise bad(f"date invalide « {key} » (attendu AAAA-MM-JJ)")
    try:
        day = date.fromisoformat(key)
    except ValueError:
        raise bad(f"date invalide « {key} »") from None
    if not _FIRST_DATE <= day <= _LAST_DATE:
        raise bad(f"date hors plage « {key} »", day)
    return day


def _dated_value(entry: object, since: date, unit: Unit, origin: str, bad: _Bad) -> DatedValue:
    where = f"[values.\"{since.isoformat()}\"]"
    if not isinstance(entry, dict):
        raise bad(f"{where} doit être une table", since)
    _no_unknown(entry, _VALUE_KEYS, bad, where + " ", since)
    value = _number(entry.get("value"), unit, f"{where} value", bad, since)
    source = entry.get("source")
    if not isinstance(source, str) or not source.strip():
        raise bad(f"{where} : « source » manquante", since)
    try:
        grade = Grade(entry.get("grade"))
    except ValueError:
        raise bad(f"{where} : « grade » doit valoir {', '.join(g.value for g in Grade)}", since) from None
    checked = entry.get("checked")
    if type(checked) is not date:  # a TOML local date; a datetime or a string is refused
        raise bad(f"{where} : « checked » doit être une date TOML (AAAA-MM-JJ, sans guillemets)", since)
    if not _FIRST_DATE <= checked <= _LAST_DATE:
        raise bad(f"{where} : « checked » hors plage", since)
    note = entry.get("note")
    if note is not None and not isinstance(note, str):
        raise bad(f"{where} : « note » doit être un texte", since)
    flagged = entry.get("unconfirmed", False)
    if not isinstance(flagged, bool):
        raise bad(f"{where} : « unconfirmed » doit valoir true ou false", since)
    components = _components(entry.get("components"), value, unit, where, bad, since)
    return DatedValue(since, value, source.strip(), grade, checked, origin, note, flagged, components)


def _components(
    raw: object, total: Decimal, unit: Unit, where: str, bad: _Bad, since: date
) -> tuple[tuple[str, Decimal], ...]:
    """Named parts of a rate (CCSS + OMT + CGCS); they must add up exactly to the value."""
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not raw:
        raise bad(f"{where} : « components » doit être une table nom = valeur", since)
    parts = tuple((str(k), _number(v, unit, f"{where} components.{k}", bad, since)) for k, v in raw.items())
    if sum((v for _, v in parts), Decimal(0)) != total:
        raise bad(f"{where} : la somme des composantes ne fait pas {total}", since)
    return parts


def _number(raw: object, unit: Unit, where: str, bad: _Bad, since: date) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, (int, Decimal)):
        raise bad(f"{where} : nombre attendu", since)
    value = Decimal(raw)
    if not value.is_finite():
        raise bad(f"{where} : nombre fini attendu", since)
    low, high, exclusive = _RANGES[unit]
    if value > high or value < low or (exclusive and value == low):
        raise bad(f"{where} = {value} hors plage pour l'unité « {unit} »", since)
    if unit is Unit.FLAG and value not in (0, 1):
        raise bad(f"{where} : 0 ou 1 attendu", since)
    if unit is Unit.AMOUNT and value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise bad(f"{where} : un montant a au plus 2 décimales", since)
    return value


def _no_unknown(
    data: Mapping[str, object], known: set[str], bad: _Bad, where: str, on: object = None
) -> None:
    for key in data:
        if key not in known:
            raise bad(f"{where}clé inconnue « {key} » (attendu : {', '.join(sorted(known))})", on)


def _merge(base: Parameter | None, extra: Parameter) -> Parameter:
    """An operator file over the package's parameter: same unit; its dates added, same dates replaced."""
    origin = extra.values[0].origin
    if base is None:
        raise RateError(
            f"{origin}: paramètre inconnu « {extra.name} » (un fichier opérateur doit porter le chemin "
            f"d'un paramètre existant, p. ex. car/employee.toml)", parameter=extra.name,
        )
    if base.unit is not extra.unit:
        raise RateError(
            f"{origin}: unité « {extra.unit} » différente de celle du paramètre « {base.unit} »",
            parameter=extra.name,
        )
    merged = {v.since: v for v in base.values} | {v.since: v for v in extra.values}
    values = tuple(merged[d] for d in sorted(merged))
    return Parameter(base.name, base.label, base.description, base.unit, values)


def all_values(book: RateBook) -> Iterable[tuple[Parameter, DatedValue]]:
    """Every dated value of the book, parameter by parameter (for ``gateway rates check``)."""
    for p in book.parameters.values():
        for v in p.values:
            yield p, v
