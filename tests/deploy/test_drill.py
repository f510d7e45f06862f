"""The drill's programs (deploy/drill/): every program ``Cluster.run_program`` is asked to run, by
deploy/drill/drill.py and bench/drill_r4.py, is a module there with a docstring, ``main`` and a
``__main__`` guard, and is run as a file from the project root with the project on
``PYTHONPATH``. No database: the drills themselves (``make drill``, about 10 minutes, servers of
their own) are not run here.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DRILL = ROOT / "deploy" / "drill"
CALLERS = [DRILL / "drill.py", ROOT / "bench" / "drill_r4.py"]
PROGRAMS = {"setup_data", "cohort", "drained", "cohort_refs", "check"}


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    # A clean environment: nothing from the test run (DJANGO_ENV=test, DATABASE_URL) leaks in.
    base = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}}
    return subprocess.run(  # noqa: S603
        [sys.executable, *argv],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _programs_run() -> set[str]:
    """The first argument of every ``.run_program(...)`` call in the callers."""
    names = set()
    for path in CALLERS:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "run_program"
            ):
                first = node.args[0]
                assert isinstance(first, ast.Constant), ast.unparse(node)
                names.add(first.value)
    return names


def test_every_program_run_is_a_module_with_main() -> None:
    assert _programs_run() == PROGRAMS
    for name in PROGRAMS:
        tree = ast.parse((DRILL / f"{name}.py").read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), name
        mains = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main"]
        assert mains, name
        assert ast.unparse(mains[0].returns) == "int", name
        guards = [
            n for n in tree.body if isinstance(n, ast.If) and "__main__" in ast.unparse(n.test)
        ]
        assert guards, name


def test_no_program_kept_in_a_string() -> None:
    for path in CALLERS:
        source = path.read_text(encoding="utf-8")
        assert '"-c"' not in source, path
        assert "django.setup()" not in source, path


def test_run_program_runs_the_file_from_the_project_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deploy.drill import drill

    calls: list[tuple[list[str], dict[str, Any]]] = []

    def fake_run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append((argv, kwargs))
        return subprocess.CompletedProcess(argv, 0, stdout="20\n", stderr="")

    monkeypatch.setattr(drill.subprocess, "run", fake_run)
    cluster = drill.Cluster(tmp_path)
    assert cluster.run_program("cohort", "1", "20") == "20\n"
    ((argv, kwargs),) = calls
    assert argv == [sys.executable, str(DRILL / "cohort.py"), "1", "20"]
    assert kwargs["cwd"] == ROOT
    assert kwargs["env"]["PYTHONPATH"] == str(ROOT)
    assert kwargs["env"]["DJANGO_SETTINGS_MODULE"] == "config.settings"
    assert kwargs["env"]["DATABASE_URL"] == cluster.env["DATABASE_URL"]
    assert kwargs["check"] is True


def test_run_program_refuses_a_program_that_does_not_exist(tmp_path: Path) -> None:
    from deploy.drill import drill

    with pytest.raises(ValueError, match="no drill program"):
        drill.Cluster(tmp_path).run_program("nonexistent")


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_given_wrong_arguments_prints_its_usage(name: str) -> None:
    result = _run(str(DRILL / f"{name}.py"), "a", "b", "c")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(f"usage: {name}.py"), result.stderr


@pytest.mark.parametrize("script", ["deploy/drill/drill.py", "bench/drill_r4.py"])
def test_drill_prints_its_usage(script: str) -> None:
    result = _run(script, "--help")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("usage:"), result.stdout
