"""The README's configuration table names every environment variable the code reads, and no other.

An operator learns what can be configured from that table only, so a variable read in code
but missing there is a setting nobody knows about, and a row for a variable nothing reads
promises a knob that does nothing. The scan covers the project's Python sources (not
tests/ nor bench/, whose variables steer the test and benchmark runs, not the OMS).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_DIRS = {"tests", "bench", "node_modules", "staticfiles", "var"}
# Calls whose first argument is the name of an environment variable.
ENV_HELPERS = {"env_bool", "env_list", "getenv"}
ENVIRON_METHODS = {"get", "setdefault", "pop"}
ROW = re.compile(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|")


def _python_sources() -> list[Path]:
    sources = []
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0] in SKIPPED_DIRS or any(part.startswith(".") for part in parts):
            continue
        sources.append(path)
    return sources


def _is_environ(node: ast.expr) -> bool:
    """Return whether `node` is `os.environ` (or a bare `environ`)."""
    if isinstance(node, ast.Attribute):
        return node.attr == "environ"
    return isinstance(node, ast.Name) and node.id == "environ"


def _constant(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def variables_read(tree: ast.AST) -> set[str]:
    """Return the environment variables a module reads, by name."""
    names = set()
    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.Subscript) and _is_environ(node.value):
            name = _constant(node.slice)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            reads = (
                isinstance(func, ast.Attribute)
                and (
                    func.attr == "getenv"
                    or (func.attr in ENVIRON_METHODS and _is_environ(func.value))
                )
            ) or (isinstance(func, ast.Name) and func.id in ENV_HELPERS)
            if reads:
                name = _constant(node.args[0])
        if name is not None:
            names.add(name)
    return names


def code_variables() -> dict[str, list[str]]:
    """Return each variable the project's code reads, with the files that read it."""
    found: dict[str, list[str]] = {}
    for path in _python_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name in variables_read(tree):
            found.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return found


def readme_variables() -> set[str]:
    """Return the variables named in the first column of the README's configuration table."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Configuration (environment)", 1)[1].split("\n## ", 1)[0]
    return {match.group(1) for line in section.splitlines() if (match := ROW.match(line))}


def test_it_finds_every_way_the_code_reads_a_variable():
    # given
    source = (
        "import os\n"
        "a = os.environ.get('A')\n"
        "b = os.environ['B']\n"
        "c = os.getenv('C', '1')\n"
        "d = env_bool('D', True)\n"
        "e = env_list('E')\n"
        "os.environ.setdefault('F', 'x')\n"
        "g = os.environ.get(name)\n"
    )

    # when
    names = variables_read(ast.parse(source))

    # then
    assert names == {"A", "B", "C", "D", "E", "F"}


def test_it_reads_the_settings_module():
    # given, when
    found = code_variables()

    # then: the scan reaches oms/settings.py and beyond it
    assert "oms/settings.py" in found["DATABASE_URL"]
    assert "accounts/management/commands/ensure_admin.py" in found["PORT"]


def test_every_variable_the_code_reads_has_a_row_in_the_readme():
    # given
    documented = readme_variables()

    # when
    missing = {name: files for name, files in code_variables().items() if name not in documented}

    # then
    assert not missing, (
        "Environment variables read by the code but missing from the README's "
        f"configuration table: {missing}"
    )


def test_every_row_of_the_readme_names_a_variable_the_code_reads():
    # given
    read = set(code_variables())

    # when
    stale = sorted(readme_variables() - read)

    # then
    assert not stale, f"README configuration rows for variables nothing reads: {stale}"
