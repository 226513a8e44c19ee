"""GridCare's benchmark suite (`make bench`, `python -m bench.run [name ...]`).

Each `bench/bench_<name>.py` module has `run(ctx) -> dict` returning named figures (value, unit,
target); `bench.run` discovers them, runs each in its own process, prints a pass/fail table and writes
`bench/results/<name>.json` and `bench/results/summary.md` with the machine the figures came from.
Benchmarks are measurements, not tests: nothing here is collected by pytest.
"""
