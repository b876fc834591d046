"""The shape of the tree (docs/architecture.md): the import layering holds, every package of ours
is under it, and no function outside the tests and the migrations runs over 80 lines."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT

MAX_FUNCTION_LINES = 80
# Generated revisions are exempt from the length rule; tests are not product code.
NOT_PRODUCT_CODE = {"tests", "migrations", "var", "web"}
LINT = "from importlinter.cli import lint_imports_command as main; main()"


def _lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    """The linter's own CLI in a child process: it reconfigures logging and sys.path, which the
    test process must keep."""
    return subprocess.run(
        [sys.executable, "-c", LINT, "--no-cache", "--no-logo", str(project / "pyproject.toml")],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _root_packages() -> list[str]:
    with (PROJECT_ROOT / "pyproject.toml").open("rb") as f:
        packages: list[str] = tomllib.load(f)["tool"]["importlinter"]["root_packages"]
    return packages


def test_the_import_layering_holds():
    result = _lint_imports(PROJECT_ROOT)
    if result.returncode != 0:
        pytest.fail(f"import-linter:\n{result.stdout}\n{result.stderr}", pytrace=False)
    assert "0 broken" in result.stdout


def test_every_package_of_ours_is_under_the_layering():
    """A new top-level package escapes the contracts unless it is listed as a root package."""
    packages = {
        path.parent.name for path in PROJECT_ROOT.glob("*/__init__.py") if path.parent.name != "tests"
    }
    assert packages - set(_root_packages()) == set()


def test_the_contracts_break_on_planted_violations(tmp_path: Path):
    """The same contracts against a stand-in tree of empty packages with three forbidden imports:
    inventory importing dispatch, offline_sync importing api, and routing importing core."""
    for package in _root_packages():
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "inventory" / "loans.py").write_text("import dispatch\n")
    (tmp_path / "offline_sync" / "push.py").write_text("from api import app\n")
    (tmp_path / "routing" / "solver.py").write_text("import core\n")
    (tmp_path / "pyproject.toml").write_text((PROJECT_ROOT / "pyproject.toml").read_text())

    result = _lint_imports(tmp_path)

    assert result.returncode != 0, result.stdout
    assert "2 broken" in result.stdout, result.stdout
    for chain in ("inventory.loans -> dispatch", "offline_sync.push -> api", "routing.solver -> core"):
        assert chain in result.stdout, result.stdout


def _product_modules() -> list[Path]:
    return sorted(
        path
        for path in PROJECT_ROOT.rglob("*.py")
        if not (
            set(path.relative_to(PROJECT_ROOT).parts[:-1]) & NOT_PRODUCT_CODE
            or any(part.startswith(".") for part in path.relative_to(PROJECT_ROOT).parts)
        )
    )


def long_functions(source: str, limit: int = MAX_FUNCTION_LINES) -> list[tuple[int, str, int]]:
    """(line, name, length) of each function or method longer than `limit` lines, counted from
    `def` to its last line (decorators not counted, docstring and comments counted)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > limit:
                found.append((node.lineno, node.name, length))
    return sorted(found)


def test_the_length_check_counts_nested_and_async_functions():
    def body(indent: str, lines: int) -> str:
        return "".join(f"{indent}x{i} = {i}\n" for i in range(lines))

    source = (
        f"async def long():\n{body('    ', 80)}\n"  # lines 1-81: 81 lines
        f"def short():\n{body('    ', 79)}\n"  # lines 83-162: exactly 80, allowed
        f"class Holder:\n    def method(self):\n        def inner():\n{body('            ', 80)}"
        "        return inner\n"  # method: lines 165-247 (83), inner: 166-246 (81)
    )

    assert long_functions(source) == [(1, "long", 81), (165, "method", 83), (166, "inner", 81)]


def test_no_function_outside_the_tests_and_migrations_is_over_80_lines():
    offenders = [
        f"{path.relative_to(PROJECT_ROOT)}:{line} {name} ({length} lines)"
        for path in _product_modules()
        for line, name, length in long_functions(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, f"{len(offenders)} functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(
        offenders
    )
