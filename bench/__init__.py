"""The benchmark of issue 7: `python -m bench` (or `make bench`); see the README's
"Benchmark" section."""
