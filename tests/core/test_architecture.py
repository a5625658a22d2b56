"""The layers of DESIGN.md § Architecture as import contracts (import-linter, also run by .ci/test)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = {c["id"]: c for c in tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
             ["tool"]["importlinter"]["contracts"]}


def test_the_layers_are_contracts() -> None:
    forbidden = {(tuple(c["source_modules"]), tuple(c["forbidden_modules"])) for c in CONTRACTS.values()
                 if c["type"] == "forbidden"}
    assert {(("plugins",), ("web",)), (("web",), ("plugins",)), (("geoplatform.io",), ("geoplatform.cli",)),
            (("layers",), ("plugins", "web")), (("geoplatform",), ("plugins", "web"))} <= forbidden
    assert CONTRACTS["core-acyclic"]["type"] == "acyclic_siblings"


def test_import_contracts_are_kept(tmp_path) -> None:  # noqa: ANN001
    # in a process of its own: import-linter configures logging (dictConfig), which silences every logger of
    # this process — and with it the tests that read our logs
    code = ("import sys; from importlinter.cli import lint_imports; "
            f"sys.exit(lint_imports(config_filename={str(ROOT / 'pyproject.toml')!r}, cache_dir={str(tmp_path)!r}, "
            "no_logo=True))")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("geoplatform", "layers", "plugins", "web", include_external_packages=False)


def test_no_import_circle_among_the_core_s_modules(graph: grimp.ImportGraph) -> None:
    core = sorted(m for m in graph.modules if m.split(".")[0] == "geoplatform")
    circles = [(a, b) for a in core for b in graph.find_modules_directly_imported_by(a)
               if b.startswith("geoplatform") and graph.chain_exists(importer=b, imported=a)]
    assert circles == []


def test_the_cli_is_assembled_without_import_tricks(graph: grimp.ImportGraph) -> None:
    """`serve` comes from an entry point; io never reaches the CLI; plugins reach it without reaching web."""
    assert not graph.chain_exists(importer="geoplatform.io.importer", imported="geoplatform.cli")
    assert not graph.chain_exists(importer="geoplatform.cli", imported="web.cli")
    for path in (ROOT / "geoplatform" / "cli").rglob("*.py"):
        assert "import_module" not in path.read_text(encoding="utf-8"), path
