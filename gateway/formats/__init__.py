"""Reading uploaded files: identify the kind, parse safely, validate, and produce the frozen domain values.

One module per message kind (:mod:`.declaration`, :mod:`.payslip`), each with the same small interface
(:class:`MessageModule`, after python-stdnum): ``identify`` says whether a sniffed file is of its kind,
``parse`` turns it into a :class:`~gateway.domain.ReadResult`, ``check`` runs the rules on the value.

The entry point is :func:`read`: bytes in, ``ReadResult`` out, never an exception for a bad file.
The kind comes from the XML root element and namespace or from the CSV header row; an unknown kind, an
unknown namespace version or a file that two modules claim is refused (ambiguity is never "first wins").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from gateway.domain import FileFormat, FileKind, Finding, Location, ReadResult
from gateway.formats import csvreader, safexml
from gateway.formats.codes import CODES, MAX_FINDINGS, cap, finding
from gateway.formats.xmllimits import XmlLimits
from gateway.formats.xsd import compile_all

if TYPE_CHECKING:
    from lxml import etree

    from gateway.config import IntakeSection
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

NAMESPACE_PREFIX = "urn:csm-gateway:"


@dataclass(frozen=True)
class Limits:
    """What an uploaded file may not exceed (from ``[intake]`` in the configuration)."""

    max_file_bytes: int = 50 * 1024 * 1024
    max_csv_rows: int = 200_000
    max_field_chars: int = 256
    max_findings: int = MAX_FINDINGS
    xml_max_elements: int = XmlLimits.max_elements
    xml_max_attributes: int = XmlLimits.max_attributes
    xml_max_depth: int = XmlLimits.max_depth
    xml_max_text_chars: int = XmlLimits.max_text_chars

    @classmethod
    def from_config(cls, intake: IntakeSection) -> Limits:
        return cls(
            max_file_bytes=intake.max_file_bytes,
            max_csv_rows=intake.max_csv_rows,
            xml_max_elements=intake.xml_max_elements,
            xml_max_attributes=intake.xml_max_attributes,
            xml_max_depth=intake.xml_max_depth,
            xml_max_text_chars=intake.xml_max_text_chars,
        )

    @property
    def xml(self) -> XmlLimits:
        return XmlLimits(
            self.xml_max_elements, self.xml_max_attributes, self.xml_max_depth, self.xml_max_text_chars
        )


@dataclass(frozen=True)
class Sniff:
    """A file looked at once: its format and, for XML, the parsed root; for CSV, the header's columns."""

    name: str
    data: bytes
    format: FileFormat
    root: etree._Element | None = None
    header: tuple[str, ...] = ()
    warnings: tuple[Finding, ...] = field(default=())

    @property
    def root_tag(self) -> str | None:
        return None if self.root is None else str(self.root.tag)


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


def refused(
    kind: FileKind | None, findings: list[Finding], total: int | None = None, fmt: FileFormat | None = None
) -> ReadResult:
    """A file refused as a whole: no value, the first findings and their total count."""
    kept, count = cap(findings)
    extra: dict[str, object] = {"format": fmt.value} if fmt else {}
    return ReadResult(
        kind=kind, value=None, findings=kept, total_findings=max(count, total or 0), extra=extra
    )


def too_large(size: int, limits: Limits) -> ReadResult:
    return refused(
        None,
        [
            finding(
                "FILE_TOO_LARGE",
                f"Fichier de {size} octets.",
                Location(),
                f"au plus {limits.max_file_bytes} octets",
            )
        ],
    )


def sniff(data: bytes, name: str, limits: Limits) -> Sniff | ReadResult:
    """Look at the bytes once: a refusal (too large, empty, compressed, not well formed), or a Sniff."""
    if len(data) > limits.max_file_bytes:
        return too_large(len(data), limits)
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        return refused(
            None,
            [
                finding(
                    "FILE_EMPTY",
                    "Le fichier est vide.",
                    Location(line=1),
                    "une déclaration ou une demande de bulletins",
                )
            ],
        )
    kind = safexml.compressed_kind(data)
    if kind:
        return refused(
            None,
            [
                finding(
                    "FILE_COMPRESSED",
                    f"Fichier compressé ({kind}) : envoyez le fichier XML ou CSV lui-même.",
                    Location(line=1, column=1),
                    "XML ou CSV non compressé",
                )
            ],
        )
    if safexml.looks_like_xml(data):
        parsed = safexml.parse(data, limits.xml)
        if isinstance(parsed, list):
            return refused(None, parsed, fmt=FileFormat.XML)
        return Sniff(name, data, FileFormat.XML, root=parsed.root, warnings=parsed.warnings)
    header = csvreader.header_of(data)
    if header is None:
        return refused(
            None,
            [
                finding(
                    "FILE_UNKNOWN_KIND",
                    "Ni XML ni CSV lisible (fichier binaire ?).",
                    Location(line=1),
                    "XML ou CSV en UTF-8",
                )
            ],
        )
    return Sniff(name, data, FileFormat.CSV, header=tuple(header[1]))


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
