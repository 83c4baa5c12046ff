"""Run the convergence state machine with the long Hypothesis profile.

    python bench/convergence.py            # ~1500 random schedules of up to 120 steps
    python bench/convergence.py --seed 7   # another fixed seed

CI runs the same machine with the short, derandomized "ci" profile; this is the
long soak. It prints pytest's summary and Hypothesis' statistics and exits with
pytest's status (a failure prints the shrunk schedule that reproduces it).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=None, help="fixed Hypothesis seed")
    args = parser.parse_args()
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-o",
        "timeout=3600",
        "--hypothesis-show-statistics",
        "tests/test_convergence.py",
    ]
    if args.seed is not None:
        command.append(f"--hypothesis-seed={args.seed}")
    env = {**os.environ, "HYPOTHESIS_PROFILE": "extensive"}
    return subprocess.call(command, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
