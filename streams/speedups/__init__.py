"""Machinery that exists only for throughput: the compiled engine loader, the Faust
consumer-loop patch and fast path, batched produce, GC pacing. Each has its own test."""
