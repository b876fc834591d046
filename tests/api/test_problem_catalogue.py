"""Every problem type the code can answer is described in the catalogue clients read."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import api
import completion
import core
import dispatch
import inventory
import offline_sync
from api.problems import CATALOGUE
from core.errors import DomainError


def _all_subclasses(cls: type[DomainError]) -> set[type[DomainError]]:
    found: set[type[DomainError]] = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_all_subclasses(sub)}
    return found


def test_every_domain_error_slug_is_catalogued():
    for package in (api, completion, core, dispatch, inventory, offline_sync):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)
    missing = {e.slug for e in _all_subclasses(DomainError)} - set(CATALOGUE)
    assert not missing


def test_every_literal_problem_type_is_catalogued():
    root = Path(api.__file__).parent.parent
    literal = re.compile(r'"/problems/([a-z-]+)"|problem_messages\(\s*\d+,\s*"([a-z-]+)"')
    slugs: set[str] = set()
    for package in ("api", "completion", "core", "dispatch", "inventory", "offline_sync"):
        for path in (root / package).rglob("*.py"):
            slugs |= {a or b for a, b in literal.findall(path.read_text(encoding="utf-8"))}
    assert slugs, "the pattern found no problem types at all"
    assert not slugs - set(CATALOGUE)
