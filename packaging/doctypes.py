"""The logger file types the installers associate with Laptrace, in one place.

The macOS ``CFBundleDocumentTypes`` (in ``laptrace.spec``) are generated from this list.
The Linux MIME database file (``resources/mime/laptrace.xml``), the ``.desktop`` entry and
the Inno Setup script are static files; ``tests/packaging/test_spec.py`` checks that they
agree with it.

Only extensions that belong to a logger format are claimed as Laptrace's own (``.vbo``,
``.mf4``/``.mdf``, AiM's ``.xrk``/``.xrz``/``.drk``, MoTeC's ``.ld``). CSV exports (RaceChrono, AiM, MoTeC) share ``.csv`` with every
spreadsheet, so Laptrace is only offered as an alternative for them ("Open with").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DocumentType:
    """One file type as the three desktops describe it."""

    description: str
    extensions: tuple[str, ...]  #: without the dot, lower case
    mime: str  #: freedesktop MIME type
    uti: str  #: macOS Uniform Type Identifier
    uti_conforms_to: tuple[str, ...]
    owned: bool  #: True: Laptrace is the default app; False: offered in "Open with" only

    @property
    def macos_rank(self) -> str:
        return "Owner" if self.owned else "Alternate"


DOCUMENT_TYPES: tuple[DocumentType, ...] = (
    DocumentType(
        description="Racelogic VBOX data",
        extensions=("vbo",),
        mime="text/x-vbo",
        uti="org.laptrace.vbo",
        uti_conforms_to=("public.plain-text", "public.data"),
        owned=True,
    ),
    DocumentType(
        description="ASAM MDF measurement data",
        extensions=("mf4", "mdf"),
        mime="application/x-asam-mdf",
        uti="org.laptrace.mdf",
        uti_conforms_to=("public.data",),
        owned=True,
    ),
    DocumentType(
        description="AiM data logger log",
        extensions=("xrk", "xrz", "drk"),
        mime="application/x-aim-xrk",
        uti="org.laptrace.aim-xrk",
        uti_conforms_to=("public.data",),
        owned=True,
    ),
    DocumentType(
        description="MoTeC data logger log",
        extensions=("ld",),
        mime="application/x-motec-ld",
        uti="org.laptrace.motec-ld",
        uti_conforms_to=("public.data",),
        owned=True,
    ),
    DocumentType(
        description="Logger CSV export (RaceChrono, AiM, MoTeC)",
        extensions=("csv",),
        mime="text/csv",
        uti="public.comma-separated-values-text",
        uti_conforms_to=(),
        owned=False,
    ),
)

#: Linux only: CSV and text exports recognised by their first bytes (shared-mime-info
#: magic), so a file manager can tell a RaceChrono CSV from any other CSV.
SNIFFED_MIME_TYPES: tuple[str, ...] = (
    "text/x-racechrono-csv",
    "text/x-aim-csv",
    "text/x-motec-csv",
    "text/x-windarab-ascii",
)


def desktop_mime_types() -> list[str]:
    """Every MIME type the ``.desktop`` entry must list, in a stable order."""
    return [t.mime for t in DOCUMENT_TYPES] + list(SNIFFED_MIME_TYPES)
