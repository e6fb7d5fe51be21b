"""Backtesting the health score against churn outcomes (``healthscore backtest`` / ``fit``).

A history of input events is replayed through the live engine, a day at a time
with the live tick's clock, and every account's score, per-dimension scores and
raw daily activity are kept per day (``history``). The outcomes are the
``subscription_canceled`` events of the same history. ``metrics`` then asks the
questions a RevOps lead asks of a score - does it rank churners below the
retained, how early do its alerts fire, how many of them are false - of the
score, of a recency baseline and of a cross-validated classifier on the same
days (``ceiling``), side by side; ``report`` renders JSON, a table and HTML.
"""

#: How far past ``--until`` a partition's events run before a Kafka read leaves
#: it (``kafka_history``); here so ``healthscore backtest --help`` needs no aiokafka.
DEFAULT_LATENESS_S = 86_400
