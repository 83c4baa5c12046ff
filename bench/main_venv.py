"""Run bench scripts under the main venv's python (pycrdt, psutil, the project), whichever
python started them. Standard library only: it runs before anything else is importable."""

from __future__ import annotations

import os
import sys
from pathlib import Path

MAIN_PYTHON = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python"


def ensure_main_venv(script: str) -> None:
    """Re-execute ``script`` with the main venv's python unless this is already it."""
    if MAIN_PYTHON.exists() and Path(sys.prefix).resolve() != MAIN_PYTHON.parent.parent.resolve():
        os.execv(str(MAIN_PYTHON), [str(MAIN_PYTHON), str(Path(script).resolve()), *sys.argv[1:]])
