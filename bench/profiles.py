"""With `--profile`: each bot process's cProfile output, summarised beside it as the
functions that took the most time, themselves and with what they called."""

from __future__ import annotations

import io
import pstats
from pathlib import Path

TOP = 30


def summarise(folder: Path) -> list[str]:
    """Write NAME.txt beside each NAME.prof in the folder; the summaries written."""
    written = []
    for profile in sorted(folder.glob("*.prof")):
        text = io.StringIO()
        stats = pstats.Stats(str(profile), stream=text).strip_dirs()
        stats.sort_stats("tottime").print_stats(TOP)
        stats.sort_stats("cumulative").print_stats(TOP)
        summary = profile.with_suffix(".txt")
        summary.write_text(text.getvalue())
        written.append(str(summary))
    return written
