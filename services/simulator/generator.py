"""The simulation: a population, its history in event-time order, then live events.

Pure and deterministic: no clock, no I/O, all randomness from ``random.Random``
streams seeded from ``seed``. The same (accounts, days, seed, end) always gives
byte-identical events, which is what makes a simulated run a reproducible test
input and a fair benchmark.

Events come out encoded, as ``(topic, key, value)`` with the key the account id
and the value the compact JSON the contract describes, because that is what
both sinks (Kafka and a JSON Lines file) write, and encoding here, in one tight
loop, is cheaper than anywhere else.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from operator import itemgetter

from services.simulator.churn import (
    HARD_DECLINE,
)
from services.simulator.clock import (
    DAY,
    TimestampFormatter,
    calendar_day,
    time_of_day_suffixes,
)
from services.simulator.fragments import RawEvent
from services.simulator.live import LiveModel
from services.simulator.plans import AccountPlanner
from services.simulator.population import (
    SOFT_DECLINE,
    Account,
    build_population,
    make_account,
)
from services.simulator.usage import UsageModel

#: (topic, key = account id as UTF-8, value = compact JSON)
SimEvent = tuple[str, bytes, bytes]

_by_time = itemgetter(0)


class Simulation:
    """A simulated customer base and the events it produces.

    ``history()`` yields the events of ``[start, end)`` one calendar day at a
    time (bounded memory for large populations); ``live_batch(now, n)`` then
    continues with events stamped ``now``. Event ids are ``{seed}-{end:x}-{n}``:
    stable for a given run, and distinct from those of a run with another end,
    whose events differ, so the stream's de-duplication never drops them.
    """

    def __init__(self, accounts: Sequence[Account], *, seed: int, start: int, end: int) -> None:
        if end <= start:
            raise ValueError("the history must end after it starts")
        self.accounts = tuple(accounts)
        self.seed = seed
        self.start = start
        self.end = end
        self.emitted = 0
        self._id_prefix = f"{seed}-{end:x}-"
        self._fmt = TimestampFormatter()
        self._live: LiveModel | None = None

    @classmethod
    def create(cls, *, accounts: int, days: float, seed: int, end: int) -> Simulation:
        """A population of ``accounts`` over ``days`` of history ending at ``end`` (epoch s)."""
        start = end - int(days * DAY)
        return cls(build_population(seed, accounts, start, end), seed=seed, start=start, end=end)

    @classmethod
    def forced_decline(
        cls,
        *,
        decline_code: str = "expired_card",
        decline_at: int | None = None,
        account_id: str = "acct-forced",
        segment: str = "smb",
        days: float = 30,
        seed: int = 42,
        end: int,
    ) -> Simulation:
        """One paid account whose card is declined with ``decline_code``.

        Soft codes (``insufficient_funds``, ``card_declined``, ``do_not_honor``)
        recover after one or two retries; any other code never recovers and the
        subscription is canceled 14 days later (if that is still inside the history).
        ``decline_at`` defaults to 8-20 days before ``end``.
        """
        if segment == "free":
            raise ValueError("a free account has no invoices to decline")
        start = end - int(days * DAY)
        soft = decline_code in {"insufficient_funds", "card_declined", "do_not_honor"}
        account = make_account(
            random.Random(seed),
            0,
            start,
            end,
            segment=segment,
            personas={"healthy", SOFT_DECLINE if soft else HARD_DECLINE},
            account_id=account_id,
            decline_code=decline_code,
            decline_at=decline_at,
        )
        return cls([account], seed=seed, start=start, end=end)

    def with_persona(self, persona: str) -> list[Account]:
        """The accounts playing ``persona`` (see ``population.PERSONAS``)."""
        return [a for a in self.accounts if persona in a.personas]

    def account(self, account_id: str) -> Account:
        return next(a for a in self.accounts if a.account_id == account_id)

    def _plan(self) -> dict[int, list[RawEvent]]:
        """Every account's sparse events, bucketed by calendar day number."""
        rng = random.Random(f"{self.seed}/plans")
        calendar = [
            (d, calendar_day(d * DAY)) for d in range(self.start // DAY, (self.end - 1) // DAY + 1)
        ]
        buckets: dict[int, list[RawEvent]] = {}
        for acc in self.accounts:
            invoice_days = [
                (d, f"{y}{m:02d}") for d, (y, m, dom) in calendar if dom == acc.billing_day
            ]
            planner = AccountPlanner(acc, rng, self._fmt, self.start, self.end)
            for raw in planner.plan(invoice_days):
                buckets.setdefault(raw[0] // DAY, []).append(raw)
        return buckets

    def history(self) -> Iterator[list[SimEvent]]:
        """The history's events, in event-time order, one list per calendar day."""
        for raw in self.history_raw():
            yield self.encode(raw)

    def history_raw(self) -> Iterator[list[RawEvent]]:
        """The history one calendar day at a time, sorted by event time but not yet
        encoded: a paced sink encodes slices as it goes (``EventFeed``), so a day's
        worth of encoding never stalls its event loop. Encode them in order."""
        buckets = self._plan()
        usage = UsageModel(list(self.accounts), random.Random(f"{self.seed}/usage"), self.start)
        for day in range(self.start // DAY, (self.end - 1) // DAY + 1):
            day_start = day * DAY
            raw = buckets.pop(day, [])
            usage.day(day_start, max(day_start, self.start), min(day_start + DAY, self.end), raw)
            raw.sort(key=_by_time)
            yield raw

    def events(self) -> Iterator[SimEvent]:
        """The history flattened, for callers that do not care about day batches."""
        for batch in self.history():
            yield from batch

    def live_batch(self, now: int, count: int) -> list[SimEvent]:
        """``count`` live events stamped ``now`` (never earlier than the history's end)."""
        if self._live is None:
            self._live = LiveModel(
                list(self.accounts), random.Random(f"{self.seed}/live"), self.end
            )
        return self.encode(self._live.batch(max(now, self.end), count))

    def encode(self, raw: list[RawEvent]) -> list[SimEvent]:
        """Sort by event time (stably: planning order breaks ties; already-sorted input
        costs one pass), fill ids and times, serialise. The simulator's hottest loop."""
        raw.sort(key=_by_time)
        n = self.emitted
        prefix = self._id_prefix
        tod = time_of_day_suffixes()
        date_prefix = self._fmt.date_prefix
        current_day = -1
        date = ""
        out: list[SimEvent] = []
        append = out.append
        for t, topic, key, head, tail in raw:
            n += 1
            day, second = divmod(t, DAY)
            if day != current_day:
                current_day = day
                date = date_prefix(day)
            # fragments.assemble, inlined: this loop runs once per simulated event.
            append(
                (
                    topic,
                    key,
                    f'{{"id":"{prefix}{n}",{head},"time":"{date}{tod[second]}"{tail}}}'.encode(),
                )
            )
        self.emitted = n
        return out
