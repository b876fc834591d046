"""The docs point at code that exists, and the code cites sections of docs/rules.md that exist."""

from __future__ import annotations

import importlib
import re
import tomllib

import pytest

from core.settings import PROJECT_ROOT

DOCS = PROJECT_ROOT / "docs"
# Every package of ours: the import-linter root packages (tests/test_architecture.py keeps it whole).
PACKAGES: list[str] = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
    "root_packages"
]
# `dispatch/sla/clocks.py` and `dispatch.sla.clocks.start_clocks` in backticks.
FILE = re.compile(r"`((?:[a-z_]+/)+[a-z_]+\.py)`")
DOTTED = re.compile(r"`((?:" + "|".join(PACKAGES) + r")(?:\.[A-Za-z_]\w*)+)`")
CITATION = re.compile(r'docs/rules\.md, "([^"]+)"')


def _resolves(dotted: str) -> bool:
    """The longest importable module prefix, then attributes for the rest."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            if not hasattr(target, name):
                return False
            target = getattr(target, name)
        return True
    return False


@pytest.mark.parametrize("page", ["architecture.md", "rules.md"])
def test_every_module_and_function_the_docs_name_exists(page: str):
    text = (DOCS / page).read_text(encoding="utf-8")
    missing_files = [path for path in FILE.findall(text) if not (PROJECT_ROOT / path).is_file()]
    missing_names = [name for name in DOTTED.findall(text) if not _resolves(name)]
    assert FILE.findall(text), "the pattern finds the page's file names"
    assert missing_files == []
    assert missing_names == []


def test_the_resolver_tells_a_missing_function_from_an_existing_one():
    assert _resolves("dispatch.work_orders.service.transition")
    assert not _resolves("dispatch.transitions")
    assert not _resolves("dispatch.work_orders.service.no_such_function")


def test_every_citation_of_the_rules_names_a_section_of_docs_rules_md():
    headings = {
        line.lstrip("#").strip()
        for line in (DOCS / "rules.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }
    citations = {
        f"{path.relative_to(PROJECT_ROOT)}: {section}"
        for package in PACKAGES
        for path in (PROJECT_ROOT / package).rglob("*.py")
        for section in CITATION.findall(path.read_text(encoding="utf-8"))
    }
    assert citations, "the code cites docs/rules.md"
    assert sorted(c for c in citations if c.split(": ", 1)[1] not in headings) == []
