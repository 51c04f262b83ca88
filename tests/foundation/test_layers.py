"""The package's layers and the absence of import circles, kept by import-linter (contracts in pyproject.toml):
a module may import only from the layers below its own, and no two modules of a package import each other
in a circle, not even through a third one."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_contracts_are_kept() -> None:
    tool = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert tool, "import-linter is one of the test dependencies (pip install -e '.[test]')"
    done = subprocess.run([tool, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout and "2 kept" in done.stdout, done.stdout[-2000:]
