"""`python -m bench.readme [FILE]`: a run's figures (default bench/results/latest.json) as
the Markdown tables of the README's "Benchmark" section."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.__main__ import render
from bench.report import RESULTS


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else RESULTS / "latest.json"
    figures = json.loads(path.read_text())
    print(f"Taken {path.stem}, in {figures.get('seconds')} s, quick: {figures.get('quick')}, "
          f"load average at the start: {figures['machine']['load_average']}.")
    print(render(figures, markdown=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
