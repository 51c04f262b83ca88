"""Reading uploaded files: identify the kind, parse safely, validate, and produce the frozen domain values.

One module per message kind (:mod:`.declaration`, :mod:`.payslip`), each with the same small interface
(:class:`MessageModule`, after python-stdnum): ``identify`` says whether a sniffed file is of its kind,
``parse`` turns it into a :class:`~gateway.domain.ReadResult`, ``check`` runs the rules on the value.

The entry point is :func:`read`: bytes in, ``ReadResult`` out, never an exception for a bad file.
The kind comes from the XML root element and namespace or from the CSV header row; an unknown kind, an
unknown namespace version or a file that two modules claim is refused (ambiguity is never "first wins").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from gateway.codes import CODES, MAX_FINDINGS, finding
from gateway.domain import FileFormat, FileKind, Finding, Location, ReadResult
from gateway.formats.sniff import NAMESPACE_PREFIX, Limits, Sniff, refused, sniff, too_large
from gateway.formats.xsd import compile_all

if TYPE_CHECKING:
    from gateway.rules.context import CheckContext, Verdict
    from gateway.rules.view import RecordsView

__all__ = [
    "CODES",
    "MAX_FINDINGS",
    "Limits",
    "MessageModule",
    "Sniff",
    "check",
    "compile_all",
    "module_for",
    "read",
    "refused",
    "sniff",
]

class MessageModule(Protocol):
    """The interface every message module offers (module-level names)."""

    KIND: FileKind
    NAMESPACE: str
    ROOT: str

    def identify(self, sniff: Sniff) -> bool:
        """This file is of my kind (XML root and namespace, or CSV header)."""
        ...

    def parse(self, sniff: Sniff, limits: Limits) -> ReadResult:
        """The domain value, or the findings refusing the file; junk is refused, never raised."""
        ...

    def check(self, value: Any, context: CheckContext, view: RecordsView | None) -> tuple[Verdict, ...]:
        """The rules, per item (declaration or payslip request); ``view`` None runs the offline rules only."""
        ...


def modules() -> tuple[MessageModule, ...]:
    from gateway.formats import declaration, payslip

    return (declaration, payslip)  # type: ignore[return-value]


def module_for(kind: FileKind) -> MessageModule:
    return next(m for m in modules() if m.KIND is kind)


def read(data: bytes, name: str, limits: Limits | None = None, *, size: int | None = None) -> ReadResult:
    """Read an uploaded file into a ReadResult: the value with its findings, or the refusal.

    ``name`` is the uploaded file's name (``*.test.csv`` marks a CSV test file). ``size``, when given, is
    the size on disk: a file over the limit is refused on that alone, so callers need not read its bytes
    (pass ``b""``). Never raises for a bad file.
    """
    limits = limits or Limits()
    if size is not None and size > limits.max_file_bytes:
        return too_large(size, limits)
    first = sniff(data, name, limits)
    if isinstance(first, ReadResult):
        return first
    claims = [m for m in modules() if m.identify(first)]
    if len(claims) > 1:
        kinds = ", ".join(m.KIND.value for m in claims)
        return refused(
            None,
            [
                finding(
                    "FILE_AMBIGUOUS_KIND",
                    f"Le fichier pourrait être de plusieurs types ({kinds}).",
                    Location(line=1),
                    "les colonnes d'un seul type de fichier",
                )
            ],
        )
    if not claims:
        return refused(None, [_unknown(first)])
    return claims[0].parse(first, limits)


def _unknown(s: Sniff) -> Finding:
    roots = " ou ".join(f"« {m.ROOT} » ({m.NAMESPACE})" for m in modules())
    if s.format is FileFormat.XML and s.root is not None:
        tag = str(s.root.tag)
        ns, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
        line = s.root.sourceline
        if ns.startswith(NAMESPACE_PREFIX) and any(
            ns.rsplit(":", 1)[0] == m.NAMESPACE.rsplit(":", 1)[0] for m in modules()
        ):
            return finding(
                "FILE_UNSUPPORTED_VERSION",
                f"Version de format « {ns} » non prise en charge.",
                Location(line=line, xpath=f"/{local}"),
                "espace de noms " + " ou ".join(m.NAMESPACE for m in modules()),
            )
        shown = f"{{{ns}}}{local}" if ns else local
        return finding(
            "FILE_UNKNOWN_KIND",
            f"Élément racine « {shown} » inconnu.",
            Location(line=line, xpath=f"/{local}"),
            "racine " + roots,
        )
    return finding(
        "FILE_UNKNOWN_KIND",
        "En-tête CSV non reconnu.",
        Location(line=1),
        "l'en-tête d'une déclaration ou d'une demande de bulletins (voir docs/formats.md)",
    )


def check(result: ReadResult, context: CheckContext, view: RecordsView | None = None) -> tuple[Verdict, ...]:
    """Run the rules of the file's kind on a read value; empty when the file was refused."""
    if result.value is None or result.kind is None:
        return ()
    return module_for(result.kind).check(result.value, context, view)
