"""The links into docs/ hold: every section a comment, a doc or the README points at exists.

Comments cite knowledge by section (``docs/formats.md#vbo-gates``); renaming a heading
without its comments would leave them pointing nowhere.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CODE_DIRS = ("desktop_app", "storage", "tests", "bench", "packaging")
_CODE_LINK = re.compile(r"docs/([\w-]+\.md)#([\w-]+)")
_MD_LINK = re.compile(r"\]\(((?:docs/)?[\w-]+\.md)?(?:#([\w-]+))?\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives a page's headings (lower case, punctuation dropped)."""
    seen: Counter[str] = Counter()
    out: set[str] = set()
    for title in _HEADING.findall(_FENCE.sub("", markdown)):
        slug = re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")
        out.add(slug if not seen[slug] else f"{slug}-{seen[slug]}")
        seen[slug] += 1
    return out


def _python_files() -> list[Path]:
    return sorted(p for d in CODE_DIRS for p in (ROOT / d).rglob("*.py"))


def test_anchors_follow_githubs_rule() -> None:
    page = "# Top\n## AiM native logs (.xrk/.xrz/.drk)\n```\n# not a heading\n```\n## Top\n"
    assert anchors(page) == {"top", "aim-native-logs-xrkxrzdrk", "top-1"}


def test_every_section_the_code_cites_exists() -> None:
    cited: dict[tuple[str, str], list[str]] = {}
    for path in _python_files():
        for page, anchor in _CODE_LINK.findall(path.read_text(encoding="utf-8")):
            cited.setdefault((page, anchor), []).append(str(path.relative_to(ROOT)))
    # the code does cite the docs: a scan that found nothing would pass vacuously
    assert {page for page, _ in cited} >= {"formats.md", "architecture.md"}
    missing = {
        f"docs/{page}#{anchor}": where
        for (page, anchor), where in cited.items()
        if not (DOCS / page).is_file() or anchor not in anchors((DOCS / page).read_text(encoding="utf-8"))
    }
    assert not missing


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")) + ["../README.md"])
def test_links_between_the_docs_resolve(page: str) -> None:
    source = (DOCS / page).resolve()
    broken = []
    for target, anchor in _MD_LINK.findall(source.read_text(encoding="utf-8")):
        file = source if not target else (source.parent / target).resolve()
        if not file.is_file() or (anchor and anchor not in anchors(file.read_text(encoding="utf-8"))):
            broken.append(f"{target}#{anchor}")
    assert not broken


def test_no_comment_cites_a_document_outside_the_repository() -> None:
    outside = ("FORMATS", "STYLE", "ARCHITECTURE")
    pattern = re.compile(r"\b(?:" + "|".join(outside) + r")\.md\b")
    found = [str(p.relative_to(ROOT)) for p in _python_files() if pattern.search(p.read_text(encoding="utf-8"))]
    assert not found
