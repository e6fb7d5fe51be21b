"""The fast decoder against pydantic, differentially: whatever ``fast_decode``
accepts, pydantic must accept too and convert to the very same domain event
(same class, same values, same UTC tzinfo). It may decline anything, but it
must accept every realistic event, or it is useless. Pure, no servers; the
hypothesis part mutates valid events (keys, value types, bounds, timestamps).
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import topics
from schemas.common import MAX_EVENT_BYTES
from schemas.errors import InvalidEventError
from schemas.inputs import decode_any, decode_event
from schemas.topics import TYPE_TO_TOPIC
from services.simulator import Simulation
from services.simulator.clock import parse_rfc3339
from streams.domain.events import DomainEvent
from streams.processing.convert import to_domain
from streams.processing.decode import decode_domain, fast_decode

SAMPLES = [
    line
    for line in (Path(__file__).parents[2] / "unit/schemas/samples/valid.jsonl")
    .read_bytes()
    .splitlines()
    if line.strip()
]


@cache
def simulated() -> list[tuple[str, bytes]]:
    """Two weeks of a small simulated population: every type the simulator makes."""
    sim = Simulation.create(
        accounts=120, days=14, seed=3, end=parse_rfc3339("2026-11-20T00:00:00Z")
    )
    return [(topic, value) for topic, _key, value in sim.events()]


def realistic() -> list[tuple[str, bytes]]:
    samples = [(TYPE_TO_TOPIC[orjson.loads(raw)["type"]], raw) for raw in SAMPLES]
    return samples + simulated()


def same_as_pydantic(topic: str | None, raw: bytes) -> DomainEvent | None:
    """The fast result, after checking pydantic agrees with it (None: declined)."""
    fast = fast_decode(topic, raw)
    if fast is None:
        return None
    model = decode_any(raw) if topic is None else decode_event(topic, raw)
    slow = to_domain(model)
    assert type(fast) is type(slow)
    assert fast == slow
    assert repr(fast) == repr(slow)  # also the tzinfo of every timestamp
    return fast


def mutated(raw: bytes, key: str, value: Any) -> bytes:
    """``raw`` with ``key`` set to ``value`` (stdlib json: big ints survive)."""
    return json.dumps({**orjson.loads(raw), key: value}).encode()


def without(raw: bytes, key: str) -> bytes:
    return json.dumps({k: v for k, v in orjson.loads(raw).items() if k != key}).encode()


# -- realistic input is taken, and taken identically -------------------------------------


def test_every_realistic_event_is_accepted_and_identical() -> None:
    declined = Counter(
        orjson.loads(raw)["type"]
        for topic, raw in realistic()
        if same_as_pydantic(topic, raw) is None
    )
    assert declined == Counter()


def test_simulator_covers_most_types() -> None:
    """Guards the test above: the simulated data must exercise the tables."""
    kinds = {orjson.loads(raw)["type"] for _, raw in simulated()}
    assert len(kinds) >= 12


@pytest.mark.parametrize("raw", SAMPLES, ids=lambda raw: orjson.loads(raw)["type"])
def test_any_topic_mode_matches_decode_any(raw: bytes) -> None:
    assert same_as_pydantic(None, raw) is not None


@pytest.mark.parametrize("raw", SAMPLES[:3])
def test_wrong_topic_is_declined(raw: bytes) -> None:
    other = next(t for t in topics.INPUT_TOPICS if t != TYPE_TO_TOPIC[orjson.loads(raw)["type"]])
    assert fast_decode(other, raw) is None
    assert fast_decode("cs.unknown.v1", raw) is None


# -- what strict pydantic rejects is declined -------------------------------------------

LOGIN = SAMPLES[0]
assert orjson.loads(LOGIN)["type"] == "login"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("user_id", True),
        ("user_id", 42),
        ("user_id", ""),
        ("user_id", "u" * 129),
        ("account_id", None),
        ("id", ["x"]),
        ("time", "2026-11-02T09:15:00"),
        ("time", "2026-11-02T09:15:00.Z"),
        ("time", "2026-11-02T09:15:00+00:60"),
        ("time", "2026-11-02T09:15:60Z"),
        ("time", "2026-02-30T09:15:00Z"),
        ("time", "2026-W45-1T09:15:00Z"),
        ("time", 1_700_000_000),
        ("type", "logout"),
        ("type", 1),
        ("usr_id", "u1"),
    ],
)
def test_rejects_are_declined(key: str, value: Any) -> None:
    raw = mutated(LOGIN, key, value)
    with pytest.raises(InvalidEventError):
        decode_event(topics.USAGE, raw)
    assert fast_decode(topics.USAGE, raw) is None


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1]",
        b'"x"',
        b"\xff",
        b"{}",
        b'{"id":"\\ud800"}',
        b" " * (MAX_EVENT_BYTES + 1),
    ],
    ids=["text", "array", "string", "utf8", "empty", "lone-surrogate", "too-large"],
)
def test_unparseable_is_declined_and_gets_pydantics_reason(raw: bytes) -> None:
    assert fast_decode(topics.USAGE, raw) is None
    with pytest.raises(InvalidEventError) as slow:
        decode_event(topics.USAGE, raw)
    with pytest.raises(InvalidEventError) as fast:
        decode_domain(topics.USAGE, raw)
    assert (fast.value.kind, fast.value.reason) == (slow.value.kind, slow.value.reason)


def test_overflowing_timestamp_is_left_to_pydantic_and_dead_lettered() -> None:
    """No UTC instant exists for it: the fast path declines, and the schema
    rejects it (it used to raise OverflowError, which crashed the worker)."""
    raw = mutated(LOGIN, "time", "0001-01-01T00:15:00+01:00")
    assert fast_decode(topics.USAGE, raw) is None
    with pytest.raises(InvalidEventError, match="outside the representable range"):
        decode_domain(topics.USAGE, raw)


# -- hypothesis: mutations of valid events ----------------------------------------------

ODD_VALUES: list[Any] = [
    *(0, 1, -1, 5, 6, 10, 11, 2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30),
    *(True, False, 0.0, 1.0, 3.5, -0.0, None, [], {}, [1], {"a": 1}),
    *("", "x", "x" * 64, "x" * 65, "x" * 128, "x" * 129, "x" * 256, "x" * 257, "x" * 4097),
    *("USD", "usd", "US", "USDD", "USD\n", "ÜSD", "login", "feature_used", "low", "urgent"),
    *("free", "enterprise", "giant", "a@b.co", "a@@b.co", "a b@c.de", "é@x.io", "a@b\x1c.co"),
    *("a@b.c\n", "é", "\u00a0", "2026-11-02T09:15:00Z", "😀" * 128, "😀" * 129, "\x00"),
]

OFFSETS = ["Z", "Z", "z", "", "+00:00", "-00:00", "+05:30", "-23:59", "+23:59", "+24:00"]
OFFSETS += ["+0530", "+05", "+00:60", "+01:00:30", "UTC", "+5:30"]
DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=9)


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    year = draw(st.sampled_from(["0000", "0001", "0002", "1970", "2026", "9998", "9999", "202"]))
    month, day = draw(st.integers(0, 13)), draw(st.integers(0, 32))
    hms = [draw(st.integers(0, 61)), draw(st.integers(0, 61)), draw(st.integers(0, 61))]
    sep = draw(st.sampled_from(["T", "T", "t", " ", "_", "X"]))
    frac = draw(st.one_of(st.just(""), DIGITS.map(lambda d: "." + d), DIGITS.map("_,{}".format)))
    offset = draw(st.sampled_from(OFFSETS))
    clock = ":".join(f"{n:02d}" for n in hms)
    return f"{year}-{month:02d}-{day:02d}{sep}{clock}{frac.replace('_', '')}{offset}"


def _examples() -> list[tuple[str, bytes]]:
    """Every sample, plus one simulated event of each type."""
    firsts: dict[str, tuple[str, bytes]] = {}
    for topic, raw in simulated():
        firsts.setdefault(orjson.loads(raw)["type"], (topic, raw))
    return [(TYPE_TO_TOPIC[orjson.loads(r)["type"]], r) for r in SAMPLES] + list(firsts.values())


EXAMPLES = _examples()
EVERY_KEY = sorted({key for _, raw in EXAMPLES for key in orjson.loads(raw)} | {"arr_cents"})
TIME_KEYS = ["time", "renewal_at", "created_at", "card_expires_at"]
KEYS = st.sampled_from([*EVERY_KEY, "quantity", "csat", "owner", "reason", "extra", "Type"])


def test_every_odd_value_in_every_field_is_declined_or_decoded_identically() -> None:
    """The exhaustive single mutation: each key of each example (and one
    unknown key) set to each odd value, on its topic."""
    accepted = 0
    for topic, raw in EXAMPLES:
        for key in [*orjson.loads(raw), "extra"]:
            for value in ODD_VALUES:
                accepted += same_as_pydantic(topic, mutated(raw, key, value)) is not None
    assert accepted > 100  # the sweep does reach the fast path


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str | None, bytes]:
    topic, raw = draw(st.sampled_from(EXAMPLES))
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["set", "set", "drop", "time", "duplicate"]))
        key = draw(st.one_of(st.sampled_from(list(orjson.loads(raw))), KEYS))
        if how == "set":
            raw = mutated(raw, key, draw(st.one_of(st.sampled_from(ODD_VALUES), st.text())))
        elif how == "drop":
            raw = without(raw, key)
        elif how == "time":
            time_key = draw(
                st.sampled_from(["time", "renewal_at", "created_at", "card_expires_at"])
            )
            raw = mutated(raw, time_key, draw(timestamps()))
        else:  # a repeated key, as raw text: the parsers must agree on which one wins
            extra = json.dumps({key: draw(st.sampled_from(ODD_VALUES))})[1:-1]
            raw = raw[:-1] + b"," + extra.encode() + b"}"
    return draw(st.sampled_from([topic, None, topics.USAGE])), raw


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations())
def test_mutated_events_are_declined_or_decoded_identically(case: tuple[str | None, bytes]) -> None:
    topic, raw = case
    same_as_pydantic(topic, raw)


@settings(max_examples=600, deadline=None)
@given(timestamps(), st.sampled_from(["time", "created_at", "renewal_at"]))
def test_timestamps_are_declined_or_read_identically(text: str, key: str) -> None:
    base = next(raw for topic, raw in EXAMPLES if topic == topics.ACCOUNTS)
    same_as_pydantic(topics.ACCOUNTS, mutated(base, key, text))


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-02T09:15:00Z",
        "2026-11-02T09:15:00.1Z",
        "2026-11-02T09:15:00.123456+05:30",
        "2026-11-02T09:15:00-00:00",
        "2026-11-02T23:59:59-23:59",
        "2026-12-31T23:30:00-01:00",
        "1970-01-01T00:00:00Z",
    ],
)
def test_plain_rfc3339_timestamps_take_the_fast_path(text: str) -> None:
    assert same_as_pydantic(topics.USAGE, mutated(LOGIN, "time", text)) is not None
