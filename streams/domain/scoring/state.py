"""Per-account state: everything scoring and alerting need, and nothing more.

One ``AccountState`` per account lives in a Faust table, so two budgets shape
it: the changelog entry (target <= 2 KiB of JSON for an active account) and
the per-event cost (a login must not copy the world). Hence:

- frozen dataclasses made of small frozen parts: an event replaces only the
  part it touches (a login rebuilds ``UsageState``, not the tickets);
- daily buckets instead of events (see ``windows``), times as UTC epoch
  seconds, enums as short codes in JSON;
- the billing view is the score's own (open failed invoices, days past due),
  independent of the dunning state machine, so neither waits on the other.

Duplicate input ids: ``recent_ids`` keeps 6-byte BLAKE2b digests of the last
``RECENT_IDS`` input ids (~1 in 10^13 false duplicates). A count bound keeps
busy accounts small and catches a producer retry within one burst (a re-read
after a crash is caught by offset: ``processing/reread.py``); an older
duplicate is applied again. ``to_dict`` / ``from_dict`` give the stored form.
"""

from __future__ import annotations

import base64
import operator
from dataclasses import dataclass
from typing import Any, Protocol, cast

from streams.domain.events import Priority, Segment
from streams.domain.frozen import fast_init
from streams.domain.scoring.model import DIMENSIONS
from streams.domain.scoring.parts import AlertState, ScoreMemo, UsageState
from streams.domain.scoring.parts import Band as Band
from streams.domain.scoring.series import decode_features, decode_series
from streams.domain.scoring.touchpoint_rules import Touchpoints
from streams.domain.scoring.windows import Series, day_index, encode_series

RECENT_IDS = 32
"""How many input-id digests to remember per account (see the module docstring)."""
ID_DIGEST_BYTES = 6
FEATURE_CAP = 24
"""Distinct features remembered; a typical product has fewer. The LRU one goes first."""
OPEN_TICKET_CAP = 32
OPEN_FAILURE_CAP = 8
CSAT_KEEP = 5
STATE_ENCODING = 1

_PRIORITIES: tuple[Priority, ...] = ("low", "normal", "high", "urgent")
_BANDS: tuple[Band, ...] = ("healthy", "neutral", "at_risk")


@fast_init
@dataclass(frozen=True, slots=True)
class Profile:
    """The profile fields alerts, weights and the lifecycle need (the rest stays
    in the profile topic). ``created_s``: when the customer signed up, which
    makes an account "new" (onboarding) however long ago we first saw it."""

    name: str
    segment: Segment
    owner: str | None
    arr_cents: int
    at_s: int
    plan: str | None = None
    industry: str | None = None
    created_s: int | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class Churn:
    """The account cancelled at ``at_s``: why, whether it chose to
    (``voluntary``/``involuntary``) and its last score then (tenths, -1: none)."""

    at_s: int
    reason: str | None
    kind: str
    score_t: int


@fast_init
@dataclass(frozen=True, slots=True)
class TicketState:
    """Open tickets with their priority, daily opened/reopened counts, recent CSAT."""

    seen: bool = False
    open: tuple[tuple[str, Priority], ...] = ()
    opened: Series = ()
    reopened: Series = ()
    csat: tuple[tuple[int, int], ...] = ()


@fast_init
@dataclass(frozen=True, slots=True)
class BillingView:
    """Open failed invoices: ``(invoice_id, first_failed_at_s, amount_cents)``."""

    seen: bool = False
    open_failures: tuple[tuple[str, int, int], ...] = ()


@fast_init
@dataclass(frozen=True, slots=True)
class AccountState:
    """Everything the domain knows about one account; replace, never mutate."""

    account_id: str
    profile: Profile | None = None
    usage: UsageState = UsageState()  # noqa: RUF009 - never mutated, shared
    tickets: TicketState = TicketState()
    billing: BillingView = BillingView()
    nps: tuple[int, int] | None = None
    last_activity_s: int | None = None
    watermark_s: int | None = None
    as_of_s: int | None = None
    last_score: ScoreMemo | None = None
    alerts: AlertState = AlertState()  # noqa: RUF009 - never mutated, shared
    recent_ids: bytes = b""
    """The last ``RECENT_IDS`` input-id digests, ``ID_DIGEST_BYTES`` each, packed oldest first."""
    churn: Churn | None = None
    """Set while the account is churned (``lifecycle``)."""
    touchpoints: Touchpoints = Touchpoints()  # noqa: RUF009 - frozen, shared

    def to_dict(self) -> dict[str, Any]:
        """Compact JSON-compatible form; days are stored relative to one base day."""
        base = day_index(self.as_of_s or self.watermark_s or 0)
        out: dict[str, Any] = {"v": STATE_ENCODING, "a": self.account_id, "d": base}
        if self.profile is not None:
            p = self.profile
            out["p"] = [p.name, p.segment, p.owner, p.arr_cents, p.at_s]
            if p.plan is not None or p.industry is not None or p.created_s is not None:
                out["p"] += [p.plan, p.industry, p.created_s]
        if not _equal(self.usage, _NO_USAGE):
            out["u"] = _usage_to_dict(self.usage, base)
        if self.tickets.seen:
            out["t"] = _tickets_to_dict(self.tickets, base)
        if self.billing.seen:
            out["b"] = [x for failure in self.billing.open_failures for x in failure]
        _put(out, "n", list(self.nps) if self.nps else None)
        _put(out, "l", self.last_activity_s)
        _put(out, "w", self.watermark_s)
        _put(out, "o", self.as_of_s)
        if self.last_score is not None:
            out["m"] = _memo_to_dict(self.last_score, base)
        if not _equal(self.alerts, _NO_ALERTS):
            out["al"] = _alerts_to_dict(self.alerts, base)
        if self.recent_ids:
            out["i"] = base64.b64encode(self.recent_ids).decode("ascii")
        if self.churn is not None:
            c = self.churn
            out["c"] = [c.at_s, c.reason, c.kind, c.score_t]
        if not _equal(self.touchpoints, _NO_TOUCHPOINTS):
            out["tp"] = self.touchpoints.to_list()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AccountState:
        """Inverse of ``to_dict``; ``ValueError`` when the data is not a state."""
        if data.get("v") != STATE_ENCODING:
            raise ValueError(f"unsupported account state encoding {data.get('v')!r}")
        try:
            return _from_dict(cls, data)
        except (KeyError, TypeError, IndexError) as exc:
            raise ValueError(f"malformed account state: {exc!r}") from exc


_NO_USAGE = UsageState()
_NO_ALERTS = AlertState()
_NO_TOUCHPOINTS = Touchpoints()
_equal = operator.eq
"""Value equality of two domain objects. Compiled by mypyc (``streams/speedups/native.py``),
``a == b`` between instances of these decorated dataclasses is an identity test
(mypyc does not see the ``__eq__`` the dataclass adds at run time); a call
through ``operator.eq`` is CPython's own comparison either way."""


class ScoredState(Protocol):
    """What scoring, dimensions and reasons read: an ``AccountState`` or the
    engine's long-lived mutable draft of one (``apply.StateDraft``), so a step
    does not have to freeze a copy just to be scored."""

    @property
    def account_id(self) -> str: ...
    @property
    def profile(self) -> Profile | None: ...
    @property
    def usage(self) -> UsageState: ...
    @property
    def tickets(self) -> TicketState: ...
    @property
    def billing(self) -> BillingView: ...
    @property
    def nps(self) -> tuple[int, int] | None: ...
    @property
    def last_activity_s(self) -> int | None: ...
    @property
    def last_score(self) -> ScoreMemo | None: ...
    @property
    def churn(self) -> Churn | None: ...


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        out[key] = value


def _usage_to_dict(u: UsageState, base: int) -> dict[str, Any]:
    out: dict[str, Any] = {"k": u.kinds_seen}
    _put(out, "f", None if u.first_day is None else base - u.first_day)
    if u.active_users:
        out["a"] = encode_series(u.active_users, base)
        out["b"] = [base - u.users_day, u.users_bitmap]
    if u.features:
        out["ft"] = [x for name, day in u.features for x in (name, base - day)]
    if u.records:
        out["r"] = encode_series(u.records, base)
    _put(out, "s", u.seats)
    return out


def _usage_from_dict(d: dict[str, Any], base: int) -> UsageState:
    bitmap = d.get("b", [0, 0])
    return UsageState(
        kinds_seen=int(d["k"]),
        first_day=None if d.get("f") is None else base - int(d["f"]),
        active_users=decode_series(d.get("a", []), base),
        users_day=base - int(bitmap[0]) if "b" in d else 0,
        users_bitmap=int(bitmap[1]),
        features=decode_features(d.get("ft", []), base),
        records=decode_series(d.get("r", []), base),
        seats=d.get("s"),
    )


def _tickets_to_dict(t: TicketState, base: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if t.open:
        out["o"] = [x for tid, prio in t.open for x in (tid, _PRIORITIES.index(prio))]
    if t.opened:
        out["n"] = encode_series(t.opened, base)
    if t.reopened:
        out["r"] = encode_series(t.reopened, base)
    if t.csat:
        out["c"] = encode_series(t.csat, base)
    return out


def _tickets_from_dict(d: dict[str, Any], base: int) -> TicketState:
    o = d.get("o", [])
    return TicketState(
        seen=True,
        open=tuple((str(o[i]), _PRIORITIES[o[i + 1]]) for i in range(0, len(o), 2)),
        opened=decode_series(d.get("n", []), base),
        reopened=decode_series(d.get("r", []), base),
        csat=_decode_pairs(d.get("c", []), base),
    )


def _decode_pairs(flat: list[int], base: int) -> tuple[tuple[int, int], ...]:
    """CSAT answers may share a day, so they are decoded without the ascending check."""
    pairs: list[tuple[int, int]] = []
    day = base
    for i in range(0, len(flat), 2):
        day = base - flat[i] if i == 0 else day + flat[i]
        pairs.append((day, int(flat[i + 1])))
    return tuple(pairs)


def _memo_to_dict(m: ScoreMemo, base: int) -> dict[str, Any]:
    return {
        "s": m.score_t,
        "b": _BANDS.index(m.band),
        "d": base - m.day,
        "v": m.model_version,
        "x": list(m.dim_scores_t),
        "c": list(m.contributions_t),
    }


def _alerts_to_dict(a: AlertState, base: int) -> dict[str, Any]:
    out: dict[str, Any] = {"a": int(a.armed)}
    _put(out, "i", a.inactivity_spell_s)
    _put(out, "s", a.sudden_drop_s)
    _put(out, "r", a.sudden_drop_clear_s)
    _put(out, "u", a.usage_decline_s)
    if a.onboarding_checked:
        out["o"] = 1
    if a.history:
        out["h"] = encode_series(a.history, base)
    return out


def _from_dict(cls: type[AccountState], data: dict[str, Any]) -> AccountState:
    base = int(data["d"])
    p = data.get("p")
    m = data.get("m")
    al = data.get("al")
    raw_ids = base64.b64decode(data.get("i", ""))
    c = data.get("c")
    if len(raw_ids) % ID_DIGEST_BYTES:
        raise ValueError(f"recent ids are not whole {ID_DIGEST_BYTES}-byte digests")
    return cls(
        account_id=str(data["a"]),
        profile=None if p is None else _profile(p),
        usage=_usage_from_dict(data["u"], base) if "u" in data else UsageState(),
        tickets=_tickets_from_dict(data["t"], base) if "t" in data else TicketState(),
        billing=_billing_from_list(data["b"]) if "b" in data else BillingView(),
        nps=None if data.get("n") is None else (int(data["n"][0]), int(data["n"][1])),
        last_activity_s=data.get("l"),
        watermark_s=data.get("w"),
        as_of_s=data.get("o"),
        last_score=None
        if m is None
        else ScoreMemo(
            score_t=int(m["s"]),
            band=_BANDS[m["b"]],
            day=base - int(m["d"]),
            model_version=str(m["v"]),
            dim_scores_t=_padded(m["x"]),
            contributions_t=_padded(m["c"]),
        ),
        alerts=AlertState()
        if al is None
        else AlertState(
            armed=bool(al["a"]),
            inactivity_spell_s=al.get("i"),
            sudden_drop_s=al.get("s"),
            history=decode_series(al.get("h", []), base),
            onboarding_checked=bool(al.get("o", 0)),
            sudden_drop_clear_s=al.get("r"),
            usage_decline_s=al.get("u"),
        ),
        recent_ids=raw_ids,
        churn=None if c is None else Churn(int(c[0]), c[1], str(c[2]), int(c[3])),
        touchpoints=Touchpoints.from_list(data["tp"]) if "tp" in data else Touchpoints(),
    )


def _profile(p: list[Any]) -> Profile:
    extra = p[5:8] if len(p) >= 8 else [None, None, None]
    return Profile(p[0], cast(Segment, p[1]), p[2], p[3], p[4], extra[0], extra[1], extra[2])


def _padded(values: list[int]) -> tuple[int, ...]:
    """Per-dimension memo values; a state stored before a dimension was added
    has fewer, and the missing ones read as "not scored" (-1)."""
    missing = len(DIMENSIONS) - len(values)
    return tuple(values) + (-1,) * missing if missing > 0 else tuple(values)


def _billing_from_list(flat: list[Any]) -> BillingView:
    failures = tuple(
        (str(flat[i]), int(flat[i + 1]), int(flat[i + 2])) for i in range(0, len(flat), 3)
    )
    return BillingView(seen=True, open_failures=failures)
