"""The gateway's own exceptions.

Every third-party error is translated into one of these in the one module that imports the library.

    GatewayError
    ├── ConfigError          bad or misspelt setting (attribute ``key``)
    ├── StoreError           database unreachable, migration missing, integrity problem
    │   ├── DatabaseUnavailable  connection lost or refused, lock busy, disk full: retried, never the file's
    │   └── NotFound         a record asked for by an operator does not exist
    ├── InputError           an operator's input (CLI argument, import file) is wrong; ``line``/``column``/``source``
    ├── SchemaError          a bundled XSD does not compile: the gateway refuses to start
    ├── RateError            no rate or ceiling in force, or a bad rates file (``parameter``, ``on``)
    ├── TransportError       SFTP or folder I/O failed (``endpoint``)
    ├── RenderError          a document could not be produced
    ├── AlreadyRunning       another instance holds the single-instance lock (SQLite)
    └── TechnicalError       an unexpected failure while processing one file (the file is parked)

Findings about an uploaded file are not exceptions: they are values (:class:`gateway.domain.Finding`)
that end up in the acknowledgement.
"""

from __future__ import annotations


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""

    default_message = "erreur de la passerelle"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)


class ConfigError(GatewayError, ValueError):
    """A setting is unknown, misspelt, of the wrong type or out of range."""

    default_message = "configuration invalide"

    def __init__(self, message: str | None = None, *, key: str | None = None, source: str | None = None) -> None:
        self.key = key
        self.source = source
        prefix = f"{source}: " if source else ""
        super().__init__(prefix + (message or self.default_message))


class StoreError(GatewayError):
    """The database could not do what was asked."""

    default_message = "erreur de base de données"


class DatabaseUnavailable(StoreError):
    """The database cannot be reached or written now (connection lost, lock busy, disk full): a fault of the
    infrastructure, retried; never a fault of the file being processed."""

    default_message = "base de données indisponible"


class NotFound(StoreError, LookupError):
    """A record named by an operator does not exist."""

    default_message = "introuvable"


class InputError(GatewayError, ValueError):
    """An operator's input is wrong (CLI argument, register import file)."""

    default_message = "donnée invalide"

    def __init__(
        self,
        message: str | None = None,
        *,
        line: int | None = None,
        column: str | None = None,
        source: str | None = None,
    ) -> None:
        self.line = line
        self.column = column
        self.source = source  # the file the input came from, when it is a file
        parts = [source] if source else []
        if line is not None:
            parts.append(f"ligne {line}" + (f", colonne {column}" if column else ""))
        where = ", ".join(parts) + ": " if parts else ""
        super().__init__(where + (message or self.default_message))


class SchemaError(GatewayError):
    """A bundled XML schema does not compile: the gateway must not start."""

    default_message = "schéma XML invalide"


class RateError(GatewayError, LookupError):
    """No rate or ceiling in force on a date, or a rates file is malformed."""

    default_message = "taux introuvable"

    def __init__(self, message: str | None = None, *, parameter: str | None = None, on: object = None) -> None:
        self.parameter = parameter
        self.on = on
        super().__init__(message)


class TransportError(GatewayError, OSError):
    """Moving files over SFTP or in local folders failed."""

    default_message = "erreur de transfert"

    def __init__(self, message: str | None = None, *, endpoint: str | None = None) -> None:
        self.endpoint = endpoint
        GatewayError.__init__(self, message)


class RenderError(GatewayError):
    """A document (PDF, XML, CSV) could not be produced."""

    default_message = "erreur de production de document"


class AlreadyRunning(GatewayError):
    """Another gateway process holds the single-instance lock of this (SQLite) installation."""

    default_message = "une autre instance de la passerelle tourne déjà sur cette base SQLite"


class TechnicalError(GatewayError):
    """An unexpected failure while processing one file; the file is parked, not lost."""

    default_message = "erreur technique"
