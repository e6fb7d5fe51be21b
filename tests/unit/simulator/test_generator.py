"""Determinism, ordering and ids of the simulated history and live events."""

from __future__ import annotations

from datetime import datetime

import orjson

from services.simulator import EventFeed
from services.simulator.clock import DAY

from .conftest import END, decode, make_simulation


def values(sim):
    return [value for _, _, value in sim.events()]


def test_same_seed_and_end_give_byte_identical_events():
    assert values(make_simulation(seed=7)) == values(make_simulation(seed=7))


def test_a_different_seed_gives_different_events():
    assert values(make_simulation(seed=7)) != values(make_simulation(seed=8))


def test_a_different_end_gives_other_ids_so_reruns_are_not_deduplicated():
    ids_a = {e["id"] for _, _, e in decode(make_simulation(days=3))}
    ids_b = {e["id"] for _, _, e in decode(make_simulation(days=3, end=END + 3600))}
    assert ids_a.isdisjoint(ids_b)


def test_events_are_in_non_decreasing_event_time_within_the_history(events):
    times = [datetime.fromisoformat(e["time"]).timestamp() for _, _, e in events]
    assert times == sorted(times)
    assert times[0] >= END - 30 * DAY and times[-1] < END


def test_ids_are_unique(events):
    ids = [e["id"] for _, _, e in events]
    assert len(set(ids)) == len(ids)


def test_every_account_starts_with_one_account_upserted(by_account, sim):
    assert set(by_account) == {a.account_id for a in sim.accounts}
    for account_events in by_account.values():
        types = [e["type"] for e in account_events]
        assert types[0] == "account_upserted"
        assert types.count("account_upserted") == 1


def test_segments_are_all_present_and_plausibly_mixed(sim):
    segments = [a.segment for a in sim.accounts]
    assert set(segments) == {"free", "smb", "mid_market", "enterprise"}
    assert segments.count("smb") > segments.count("enterprise")
    assert all((a.arr_cents == 0) == (a.segment == "free") for a in sim.accounts)


def test_live_events_continue_after_the_history_stamped_now():
    sim = make_simulation(accounts=10, days=2)
    history_ids = {e["id"] for _, _, e in decode(sim)}
    live = [orjson.loads(v) for _, _, v in sim.live_batch(END + 90, 500)]
    assert {e["time"] for e in live} == {"2026-11-23T00:01:30Z"}
    assert history_ids.isdisjoint(e["id"] for e in live)
    assert len({e["id"] for e in live}) == 500


def test_live_events_never_go_back_before_the_history_end():
    sim = make_simulation(accounts=5, days=1)
    assert orjson.loads(sim.live_batch(END - 3600, 1)[0][2])["time"] == "2026-11-23T00:00:00Z"


def test_feed_stops_at_max_events_across_history_and_live():
    sim = make_simulation(accounts=5, days=1)
    total = sum(1 for _ in make_simulation(accounts=5, days=1).events())
    feed = EventFeed(sim, follow=True, max_events=total + 25)
    taken = []
    while batch := feed.take(1000, END + 5):
        taken.extend(batch)
    assert len(taken) == total + 25
    assert not feed.in_history


def test_feed_without_follow_ends_with_the_history():
    sim = make_simulation(accounts=5, days=1)
    feed = EventFeed(sim)
    taken = []
    while batch := feed.take(7, END):
        taken.extend(batch)
    assert [v for _, _, v in taken] == values(make_simulation(accounts=5, days=1))


def test_feed_skip_serves_the_end_of_the_history_unencoded_before_it():
    full = [orjson.loads(v) for v in values(make_simulation(accounts=6, days=2))]
    for skip in (0, 1, 317, len(full) - 5):
        feed = EventFeed(make_simulation(accounts=6, days=2), skip=skip)
        taken = []
        while batch := feed.take(50, END):
            taken.extend(orjson.loads(v) for _, _, v in batch)
        # Ids count encoded events, so the tail gets its own; all else is the history's end.
        assert [{**e, "id": None} for e in taken] == [{**e, "id": None} for e in full[skip:]]
        assert len({e["id"] for e in taken}) == len(taken)


def test_feed_skip_past_the_history_leaves_only_live_events():
    sim = make_simulation(accounts=3, days=1)
    feed = EventFeed(sim, follow=True, skip=10**9, max_events=4)
    assert not feed.in_history
    assert {orjson.loads(v)["time"] for _, _, v in feed.take(10, END + 60)} == {
        "2026-11-23T00:01:00Z"
    }
