"""Developer benchmarks and profilers, run from the repo root as modules:

    python -m bench.bench_domain         CPU µs per event through the domain's entry point
    python -m bench.bench_hot_path       the per-message hot path, stage by stage
    python -m bench.hot_path_burst       (helpers) the event-time midnight burst
    python -m bench.memory_per_account   bytes per account in memory, by history length
    python -m bench.profile_worker       py-spy profile / A/B of one real worker
    python -m bench.latency_probe        produce -> output latency settings, p50/p99
    python -m bench.feed_latency         latency of a paced feed
    python -m bench.simulate_throughput  the simulator's produce rate
    python -m bench.worker_timeline      one worker run's samples as the bench takes them

None is a test and none asserts a timing; ``make bench`` (``healthscore
bench``, ``services/bench``) is the measured suite, and writes
``bench/results.json``. The history of the figures is ``docs/bench-history.md``.
"""
