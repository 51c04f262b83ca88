"""Configuration: TOML read into frozen dataclasses by a pure function.

``parse(data, base_dir)`` turns the TOML mapping into :class:`Config`; ``load(path)`` reads the file.
A wrong or misspelt key is a :class:`ConfigError` that names it and suggests the closest known key.
Relative paths are taken from ``[gateway] home``, itself relative to the config file's folder.
Every setting is documented, with its default, in ``config.example.toml`` (a test keeps them in step).
"""

from __future__ import annotations

import difflib
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields, is_dataclass, replace
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.errors import ConfigError
from gateway.triggers import TRIGGER_FIELDS, JobsSection

ENV_VAR = "GATEWAY_CONFIG"


@dataclass(frozen=True)
class GatewaySection:
    home: str = "."
    timezone: str = "Europe/Monaco"
    instance_name: str = "csm-gateway"


@dataclass(frozen=True)
class DatabaseSection:
    url: str = "sqlite:///gateway.db"
    echo: bool = False
    busy_timeout_ms: int = 30000


@dataclass(frozen=True)
class PathsSection:
    inbox: str = "inbox"
    outbox: str = "outbox"
    jobs: str = "jobs"
    rates_dir: str = ""


@dataclass(frozen=True)
class DeclarationsSection:
    period_open_day: int = 20
    due_day: int = 10


@dataclass(frozen=True)
class IntakeSection:
    settle_seconds: float = 5.0
    done_settle_seconds: float = 1.0
    temporaries_max_age_seconds: float = 3600.0
    max_file_bytes: int = 50 * 1024 * 1024
    max_csv_rows: int = 200_000
    xml_max_elements: int = 2_000_000
    xml_max_attributes: int = 64
    xml_max_depth: int = 32
    xml_max_text_chars: int = 1_048_576
    workers: int = 0
    worker_memory_mb: int = 1024
    worker_cpu_seconds: int = 120
    file_timeout_seconds: int = 300
    fault_pause_max_seconds: float = 60.0


@dataclass(frozen=True)
class RatesSection:
    stale_after_days: int = 400


@dataclass(frozen=True)
class SftpSection:
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 2222
    host_key: str = "gateway_host_key"
    max_connections: int = 50
    max_connections_per_address: int = 20
    max_unauthenticated_per_address: int = 10
    max_sessions_per_subscriber: int = 8
    max_open_handles: int = 32  # per connection, all its channels together
    max_upload_bytes: int = 50 * 1024 * 1024
    banner_timeout_seconds: float = 10.0
    auth_timeout_seconds: float = 20.0  # from the TCP connection: banner, key exchange and login
    idle_timeout_seconds: float = 600.0
    max_failed_logins: int = 5  # per (address, subscriber)
    lockout_seconds: float = 300.0
    slowdown_after_failures: int = 5  # per address
    max_failure_delay_seconds: float = 10.0
    max_session_bytes: int = 1024 * 1024 * 1024
    fsync_uploads: bool = True
    failure_delay_seconds: float = 0.25


@dataclass(frozen=True)
class RemoteSection:
    """Remote mode: subscribers' inboxes and outboxes on an existing SFTP server (docs/sftp.md)."""

    enabled: bool = False
    host: str = ""
    port: int = 22
    user: str = ""
    key_file: str = ""
    known_hosts: str = ""
    inbox: str = "/inbox/{subscriber}"
    outbox: str = "/outbox/{subscriber}"
    archive: str = ""
    subscribers: tuple[str, ...] = ()
    settle_seconds: float = 5.0
    connect_timeout_seconds: float = 15.0
    operation_timeout_seconds: float = 60.0
    retries: int = 3
    backoff_seconds: float = 0.5


@dataclass(frozen=True)
class MailSection:
    mode: str = "file"
    host: str = "127.0.0.1"
    port: int = 25
    security: str = "none"
    username: str = ""
    password: str = ""
    sender: str = "passerelle@caisses-sociales.mc"
    mailbox: str = "outbox/_mail"
    timeout_seconds: float = 30.0


@dataclass(frozen=True)
class SepaSection:
    creditor_name: str = "Caisses Sociales de Monaco"
    creditor_id: str = ""  # the Caisses' SEPA creditor identifier (ICS), from their bank: not published
    creditor_iban: str = ""
    creditor_bic: str = ""
    creditor_address: str = "11 rue Louis Notari, MC 98030 Monaco Cedex"
    debit_day: int = 15


@dataclass(frozen=True)
class LoggingSection:
    level: str = "INFO"
    json: bool = False


@dataclass(frozen=True)
class Config:
    gateway: GatewaySection = field(default_factory=GatewaySection)
    database: DatabaseSection = field(default_factory=DatabaseSection)
    paths: PathsSection = field(default_factory=PathsSection)
    declarations: DeclarationsSection = field(default_factory=DeclarationsSection)
    intake: IntakeSection = field(default_factory=IntakeSection)
    rates: RatesSection = field(default_factory=RatesSection)
    sftp: SftpSection = field(default_factory=SftpSection)
    remote: RemoteSection = field(default_factory=RemoteSection)
    mail: MailSection = field(default_factory=MailSection)
    sepa: SepaSection = field(default_factory=SepaSection)
    jobs: JobsSection = field(default_factory=JobsSection)
    logging: LoggingSection = field(default_factory=LoggingSection)
    base_dir: Path = Path(".")
    source: str | None = None

    # Resolved locations -------------------------------------------------------------------------
    @property
    def home(self) -> Path:
        return (self.base_dir / self.gateway.home).resolve()

    def path(self, value: str) -> Path:
        """A configured path, relative ones taken from ``home``."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.home / p

    @property
    def inbox(self) -> Path:
        return self.path(self.paths.inbox)

    @property
    def outbox(self) -> Path:
        return self.path(self.paths.outbox)

    @property
    def jobs_dir(self) -> Path:
        return self.path(self.paths.jobs)

    @property
    def rates_dir(self) -> Path | None:
        return self.path(self.paths.rates_dir) if self.paths.rates_dir else None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.gateway.timezone)

    @property
    def database_url(self) -> str:
        """The URL with a relative SQLite file taken from ``home``."""
        url = self.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            return prefix + str(self.path(url[len(prefix):]))
        return url

    @property
    def is_sqlite(self) -> bool:
        return self.database.url.startswith("sqlite")


_SECTION_NAMES = [f.name for f in fields(Config) if is_dataclass(f.default_factory)]  # type: ignore[arg-type]
_CHECKS: dict[tuple[str, str], typing.Callable[[object], str | None]] = {
    ("gateway", "timezone"): lambda v: None if _zone_ok(str(v)) else "fuseau horaire inconnu",
    ("declarations", "period_open_day"): lambda v: None if 1 <= int(v) <= 28 else "entre 1 et 28",  # type: ignore[call-overload]
    ("declarations", "due_day"): lambda v: None if 1 <= int(v) <= 28 else "entre 1 et 28",  # type: ignore[call-overload]
    ("mail", "mode"): lambda v: None if v in ("file", "smtp") else "« file » ou « smtp »",
    ("mail", "security"): lambda v: None if v in ("none", "starttls", "tls") else "« none », « starttls » ou « tls »",
    ("logging", "level"): lambda v: None if v in ("DEBUG", "INFO", "WARNING", "ERROR") else "DEBUG, INFO, WARNING ou ERROR",
    ("sftp", "port"): lambda v: None if 0 <= int(v) <= 65535 else "entre 0 et 65535",  # type: ignore[call-overload]
    ("remote", "port"): lambda v: None if 1 <= int(v) <= 65535 else "entre 1 et 65535",  # type: ignore[call-overload]
    **{("sftp", key): (lambda v: None if int(v) >= 1 else "un nombre entier positif")  # type: ignore[call-overload]
       for key in ("max_connections", "max_connections_per_address", "max_unauthenticated_per_address",
                   "max_sessions_per_subscriber", "max_open_handles", "max_failed_logins")},
    ("remote", "retries"): lambda v: None if int(v) >= 0 else "un nombre positif ou nul",  # type: ignore[call-overload]
    ("intake", "xml_max_elements"): lambda v: None if int(v) >= 1 else "au moins 1",  # type: ignore[call-overload]
    ("intake", "xml_max_attributes"): lambda v: None if int(v) >= 1 else "au moins 1",  # type: ignore[call-overload]
    # libxml2 stops at 256 levels and 10,000,000 bytes per text (huge_tree off): a setting above means nothing.
    ("intake", "xml_max_depth"): lambda v: None if 1 <= int(v) <= 256 else "entre 1 et 256",  # type: ignore[call-overload]
    ("intake", "xml_max_text_chars"): lambda v: (  # type: ignore[call-overload]
        None if 1 <= int(v) <= 10_000_000 else "entre 1 et 10000000"  # type: ignore[call-overload]
    ),
}


def _subscribers_problem(value: object) -> str | None:
    numbers = value if isinstance(value, tuple) else ()
    ok = all(n.isascii() and n.isdigit() and 5 <= len(n) <= 10 for n in numbers)
    return None if ok else "des numéros d'abonné (5 à 10 chiffres)"


def _remote_path_problem(value: object, required: bool = True) -> str | None:
    template = str(value)
    if not template and not required:
        return None
    try:
        formatted = template.format(subscriber="0")
    except (KeyError, IndexError, ValueError):
        return "un chemin dont la seule variable est {subscriber}"
    return None if "{subscriber}" in template and formatted else "un chemin contenant {subscriber}"


_CHECKS.update({
    ("remote", "subscribers"): _subscribers_problem,
    ("remote", "inbox"): _remote_path_problem,
    ("remote", "outbox"): _remote_path_problem,
    ("remote", "archive"): lambda v: _remote_path_problem(v, required=False),
})


# The identifier the example configuration once shipped: its check digits are wrong, it names no creditor.
CREDITOR_ID_PLACEHOLDER = "MC00ZZZ000000"


def creditor_id_problem(value: str) -> str | None:
    """What is wrong with a SEPA creditor identifier (EPC: country, two check digits ISO 7064 MOD 97-10 over
    the national identifier and the country, a business code), or None when it is right or not set yet."""
    from stdnum.eu import at_02
    from stdnum.exceptions import ValidationError

    if not value or value == CREDITOR_ID_PLACEHOLDER:
        return None  # not set yet: refused at export, with the setting to fill
    try:
        at_02.validate(value)
    except ValidationError as exc:
        return (f"un identifiant créancier SEPA (ICS) valide: pays, deux chiffres de contrôle (ISO 7064 MOD 97-10),"
                f" code activité, identifiant national ({exc})")
    return None


def creditor_id_missing(config: Config) -> str | None:
    """Why no SEPA document can carry the creditor identifier yet (None when it is set and valid)."""
    value = config.sepa.creditor_id
    if not value or value == CREDITOR_ID_PLACEHOLDER:
        return ("l'identifiant créancier SEPA (ICS) des Caisses n'est pas renseigné: indiquez-le dans la "
                "configuration, section [sepa], clé creditor_id (communiqué par la banque des Caisses)")
    return creditor_id_problem(value)


_CHECKS[("sepa", "creditor_id")] = lambda v: creditor_id_problem(str(v))


def _trigger_problem(value: object) -> str | None:
    from gateway.triggers import parse_trigger

    try:
        parse_trigger(str(value), ZoneInfo("UTC"))
    except ConfigError as exc:
        return str(exc)
    return None


_CHECKS.update({("jobs", name): _trigger_problem for name in TRIGGER_FIELDS})


def _zone_ok(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _suggest(key: str, known: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (vouliez-vous dire « {close[0]} » ?)" if close else ""


def _coerce(value: object, hint: object, where: str) -> object:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        errors = []
        for option in typing.get_args(hint):
            try:
                return _coerce(value, option, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0], key=where)
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            return float(value)  # durations only: money never goes through config as float
    elif hint is str:
        if isinstance(value, str):
            return value
    elif hint is Decimal:
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            return Decimal(value)
    elif hint is type(None):
        if value is None:
            return None
    elif origin is tuple and typing.get_args(hint)[1:] == (Ellipsis,) and isinstance(value, list):
        # a TOML array of one type, kept as a tuple (sections are frozen: no mutable lists)
        item = typing.get_args(hint)[0]
        return tuple(_coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value))
    name = "liste" if origin is tuple else getattr(hint, "__name__", str(hint))
    raise ConfigError(f"« {where} » doit être de type {name}, pas {type(value).__name__}", key=where)


def _section(cls: type, data: object, name: str) -> object:
    if not isinstance(data, dict):
        raise ConfigError(f"« {name} » doit être une section [{name}]", key=name)
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    values = {}
    for key, raw in data.items():
        where = f"{name}.{key}"
        if key not in known:
            raise ConfigError(f"clé inconnue « {where} »{_suggest(key, known)}", key=where)
        value = _coerce(raw, hints[key], where)
        check = _CHECKS.get((name, key))
        problem = check(value) if check else None
        if problem:
            raise ConfigError(f"« {where} » = {raw!r}: attendu {problem}", key=where)
        values[key] = value
    return cls(**values)


def parse(data: dict[str, object], base_dir: Path = Path("."), source: str | None = None) -> Config:
    """Pure: a TOML mapping (floats read as Decimal) → :class:`Config`. Raises ConfigError naming the key."""
    hints = typing.get_type_hints(Config)
    sections = {}
    try:
        for name, raw in data.items():
            if name not in _SECTION_NAMES:
                raise ConfigError(f"section inconnue [{name}]{_suggest(name, _SECTION_NAMES)}", key=name)
            sections[name] = _section(hints[name], raw, name)
    except ConfigError as exc:
        if source and not exc.source:
            raise ConfigError(str(exc), key=exc.key, source=source) from None
        raise
    return Config(**sections, base_dir=base_dir, source=source)  # type: ignore[arg-type]


def load(path: str | os.PathLike[str] | None = None) -> Config:
    """Read the config file: ``path``, else ``$GATEWAY_CONFIG``, else defaults (embedded, current folder)."""
    chosen = path or os.environ.get(ENV_VAR)
    if not chosen:
        return Config(base_dir=Path.cwd())
    p = Path(chosen)
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh, parse_float=Decimal)
    except FileNotFoundError:
        raise ConfigError(f"fichier de configuration introuvable: {p}", key=None) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"TOML invalide: {exc}", source=str(p)) from None
    return parse(data, base_dir=p.resolve().parent, source=str(p))


def with_overrides(config: Config, **sections: object) -> Config:
    """A copy with some sections replaced (tests, benchmarks)."""
    return replace(config, **sections)  # type: ignore[arg-type]
