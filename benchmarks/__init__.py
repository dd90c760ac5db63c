"""Side-by-side benchmarks: ``python -m benchmarks.<name> [--quick]``; each ends with one RESULT line."""
