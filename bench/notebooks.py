"""Deterministic test notebooks shaped like the incumbent measurement's: mostly code
cells of a few lines with small outputs, some markdown, about 1.1 KiB per cell as
nbformat writes it (5000 cells is about 5.6 MiB)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

_NAMES = ["df", "model", "result", "values", "frame", "series", "table", "score", "items", "data"]
_FUNCS = [
    "load",
    "clean",
    "fit",
    "evaluate",
    "transform",
    "summarize",
    "plot",
    "merge",
    "split",
    "scale",
]


def _lines(text: str) -> list[str]:
    """nbformat's on-disk form of a multi-line string: a list of lines."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _code_cell(i: int, rng: random.Random) -> dict[str, Any]:
    name, func = rng.choice(_NAMES), rng.choice(_FUNCS)
    source = "\n".join(
        [
            f"# step {i}: {func} the {name}",
            f"{name}_{i} = {func}({name}, window={rng.randint(2, 64)}, "
            f"seed={rng.randint(0, 9999)})",
            f"stats_{i} = {{k: round(v, 4) for k, v in {name}_{i}.items() if v is not None}}",
            f"print(f'{func} {name} {{len(stats_{i})}} keys', sorted(stats_{i})[:5])",
            f"stats_{i}",
        ]
    )
    stream = "\n".join(
        f"{func} {name} {rng.randint(10, 999)} keys "
        f"['a{rng.randint(0, 99)}', 'b{rng.randint(0, 99)}', 'c{rng.randint(0, 99)}']"
        for _ in range(5)
    )
    result = "{" + ", ".join(f"'k{j}': {rng.random():.6f}" for j in range(14)) + "}"
    return {
        "cell_type": "code",
        "execution_count": i + 1,
        "id": f"cell-{i:05d}",
        "metadata": {"tags": [], "scrolled": False},
        "outputs": [
            {"name": "stdout", "output_type": "stream", "text": _lines(stream + "\n")},
            {
                "data": {"text/plain": _lines(result)},
                "execution_count": i + 1,
                "metadata": {},
                "output_type": "execute_result",
            },
        ],
        "source": _lines(source),
    }


def _markdown_cell(i: int, rng: random.Random) -> dict[str, Any]:
    words = " ".join(rng.choice(_NAMES + _FUNCS) for _ in range(125))
    return {
        "cell_type": "markdown",
        "id": f"cell-{i:05d}",
        "metadata": {},
        "source": _lines(
            f"## Section {i}\n\n{words}\n\n"
            f"* item {rng.randint(0, 999)}\n* item {rng.randint(0, 999)}"
        ),
    }


def notebook(n_cells: int, seed: int = 0) -> dict[str, Any]:
    rng = random.Random(seed * 100003 + n_cells)
    cells = [_markdown_cell(i, rng) if i % 5 == 4 else _code_cell(i, rng) for i in range(n_cells)]
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python", "version": "3.11.7"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def write_notebook(path: Path, n_cells: int, seed: int = 0) -> int:
    """Write the notebook as nbformat does (indent 1); return its size in bytes."""
    text = json.dumps(notebook(n_cells, seed), indent=1, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return len(text.encode("utf-8"))
