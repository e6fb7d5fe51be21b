"""``healthscore bench``: the pipeline against its ceiling and a naive baseline.

One run, one broker at a time, one simulated input: raw aiokafka (the ceiling),
a first-draft stock Faust agent doing the same scoring one event at a time
(the naive baseline, ``naive_app``) and the real worker are
each run as their own process and measured the same way (events/s, CPU
seconds per 1M events, peak RSS), then the real worker's latency at a fixed
offered load, its state size and its table-recovery time. See ``suite``.
"""
