"""Alert rules end to end through the domain's steps (event time only)."""

from __future__ import annotations

from datetime import timedelta

from streams.domain.events import DomainEvent
from streams.domain.scoring.alerts import AlertDecision
from streams.domain.scoring.model import ScoringModel
from tests.unit.domain.factories import (
    T0,
    at_day,
    default_model,
    make_feature,
    make_login,
    make_model,
    make_nps,
    make_payment_failed,
    make_profile,
    make_ticket,
    run,
    tick_days,
)
from tests.unit.domain.stepping import StepResult, process_batch

HOVER_MODEL_DOC = {
    "dimensions": {
        "usage_frequency": {"normalise": {"kind": "linear", "lo": 0, "hi": 20}},
        # NPS 5 -> 16, NPS 6 -> 24: with daily logins the total is 58 or 62
        "nps": {"normalise": {"kind": "bands", "bands": [[0, 0], [5, 16], [6, 24], [9, 100]]}},
    },
    "weights": {"default": {"usage_frequency": 50, "nps": 50}},
}


def hover_model() -> ScoringModel:
    return make_model(**HOVER_MODEL_DOC)


def alerts_of(results: list[StepResult], kind: str | None = None) -> list[AlertDecision]:
    return [a for r in results for a in r.alerts if kind is None or a.type == kind]


def warm_up(days: int = 30) -> list[list[DomainEvent]]:
    """A month of daily logins and a promoter NPS: a healthy start."""
    batches: list[list[DomainEvent]] = [[make_profile(at=T0), make_nps(at=T0, score=9)]]
    batches += [[make_login(at=at_day(d, 1))] for d in range(days)]
    return batches


def hovering(
    days: int = 30, scores: tuple[int, ...] = (5, 6), start: int = 30
) -> list[list[DomainEvent]]:
    """Daily login + NPS answer alternating between the given scores."""
    return [
        [
            make_login(at=at_day(start + d, 1)),
            make_nps(at=at_day(start + d, 2), score=scores[d % 2]),
        ]
        for d in range(days)
    ]


def test_hovering_around_the_threshold_pages_once() -> None:
    _, results = run([*warm_up(), *hovering()], hover_model())
    scores = {r.health.health.score for r in results[31:] if r.health}
    assert scores == {58.0, 62.0}
    below = alerts_of(results, "health_below_threshold")
    assert len(below) == 1
    assert alerts_of(results, "health_recovered") == []
    assert below[0].score == 58.0 and below[0].previous_score == 100.0
    assert below[0].owner == "csm@example.com" and below[0].segment == "smb"


def test_recovery_rearms_and_a_new_drop_pages_again() -> None:
    batches: list[list[DomainEvent]] = [
        *warm_up(),
        *hovering(4),
        [make_nps(at=at_day(40), score=9)],
        *hovering(4, (5, 5), start=41),
    ]
    _, results = run(batches, hover_model())
    kinds = [a.type for a in alerts_of(results) if a.type.startswith("health")]
    assert kinds == ["health_below_threshold", "health_recovered", "health_below_threshold"]


def _login_and_feature(day: int) -> list[DomainEvent]:
    return [make_login(at=at_day(day, 1)), make_feature(at=at_day(day, 2))]


def test_silent_account_drops_below_threshold_on_ticks_alone() -> None:
    history: list[list[DomainEvent]] = [
        [make_profile(at=T0)],
        *(_login_and_feature(d) for d in range(40)),
    ]
    state, results = run(history)
    assert not alerts_of(results)
    assert results[-1].state is not None and results[-1].state.last_score is not None
    assert results[-1].state.last_score.band == "healthy"
    last_login = at_day(39, 2)
    _, ticks = tick_days(state, last_login, 30)
    inactivity = alerts_of(ticks, "inactivity")
    assert len(inactivity) == 1  # once per spell, although ticks keep coming
    assert inactivity[0].time == last_login + timedelta(days=14)
    assert "no activity for 14 days" in inactivity[0].reasons
    below = alerts_of(ticks, "health_below_threshold")
    assert len(below) == 1
    assert below[0].score is not None and below[0].score < 60
    assert any(r.startswith("no activity for") for r in below[0].reasons)
    assert below[0].time.hour == 0  # caused by the day changing, not by when the tick ran


def test_new_activity_starts_a_new_inactivity_spell() -> None:
    state, _ = run([[make_profile(at=T0)], *[[make_login(at=at_day(d, 1))] for d in range(10)]])
    state, first = tick_days(state, at_day(9, 1), 20)
    state, _ = run([[make_login(at=at_day(30, 1))]], state=state)
    _, second = tick_days(state, at_day(30, 1), 20)
    assert len(alerts_of(first, "inactivity")) == len(alerts_of(second, "inactivity")) == 1


def test_sudden_drop_fires_once_per_episode() -> None:
    crash: list[DomainEvent] = [
        make_ticket(at=at_day(30, 3), ticket_id=f"U{n}", priority="urgent") for n in range(3)
    ]
    crash += [make_nps(at=at_day(30, 2), score=0), make_payment_failed(at=at_day(30, 4))]
    # The fall goes on (the failed payment ages, more urgent tickets): same episode.
    more: list[DomainEvent] = [
        make_ticket(at=at_day(32 + n, 3), ticket_id=f"V{n}", priority="urgent") for n in range(8)
    ]
    batches: list[list[DomainEvent]] = [
        *warm_up(),
        [make_ticket(at=at_day(29, 5), kind="ticket_solved")],
        crash,
        more,
    ]
    _, results = run(batches, default_model())
    drops = alerts_of(results, "sudden_drop")
    assert len(drops) == 1
    drop = drops[0]
    assert drop.peak_score is not None and drop.score is not None
    assert drop.peak_score - drop.score >= 20
    # The detractor answer (02:00, before the tickets): its cap (70) is the step
    # that dropped it; the tickets and the payment carry on the same episode.
    assert drop.time == at_day(30, 2)
    assert drop.reasons[0] == "latest NPS is 0 (detractor) (caps the score at 70)"


def test_alert_and_health_ids_are_deterministic() -> None:
    batches = [*warm_up(), *hovering(6)]
    _, first = run(batches, hover_model())
    _, second = run(batches, hover_model())
    ids = [a.id for a in alerts_of(first)] + [r.health.id for r in first if r.health]
    assert ids == [a.id for a in alerts_of(second)] + [r.health.id for r in second if r.health]
    assert len(set(ids)) == len(ids) > 2


def test_alert_ids_differ_per_account_and_type() -> None:
    model = hover_model()
    a = process_batch(
        None,
        [
            make_profile("a"),
            *[make_login("a", at_day(d)) for d in range(-30, 0, 5)],  # past settling
            make_nps("a", at_day(0), 0),
            make_login("a", at_day(0)),
        ],
        model,
        at_day(0),
    )
    b = process_batch(
        None,
        [
            make_profile("b"),
            *[make_login("b", at_day(d)) for d in range(-30, 0, 5)],  # past settling
            make_nps("b", at_day(0), 0),
            make_login("b", at_day(0)),
        ],
        model,
        at_day(0),
    )
    assert [x.type for x in a.alerts] == ["health_below_threshold"]
    assert a.alerts[0].id != b.alerts[0].id


def test_sudden_drop_needs_the_account_to_leave_the_healthy_band() -> None:
    model = make_model(
        dimensions={"nps": {"normalise": {"kind": "bands", "bands": [[0, 0], [7, 78], [9, 100]]}}},
        weights={"default": {"nps": 100}},
    )
    still_healthy: list[list[DomainEvent]] = [
        [make_nps(at=at_day(1, 3), score=10)],
        [make_nps(at=at_day(2, 3), score=7)],  # 100 -> 78: 22 points, still healthy
    ]
    state, results = run(still_healthy, model)
    assert alerts_of(results, "sudden_drop") == []
    _, results = run([[make_nps(at=at_day(3, 3), score=5)]], model, state=state)
    assert len(alerts_of(results, "sudden_drop")) == 1  # 78 -> 0: at risk now


FEATURES = ("reports", "dashboards", "exports", "api", "alerts", "automations", "sso", "billing")


def _busy_day(day: int) -> list[DomainEvent]:
    """A login and every feature: the account scores in the 90s."""
    return [make_login(at=at_day(day, 1))] + [
        make_feature(at=at_day(day, 2), feature=f) for f in FEATURES
    ]


def test_a_cap_flipping_daily_pages_sudden_drop_once() -> None:
    """A detractor answer caps the score at 70 and the next day's promoter answer
    lifts it back above ``sudden_drop_rearm``, day after day: one fall, one page.
    Touching the re-arm level for a day does not end the episode; holding it
    for ``sudden_drop_rearm_days`` does."""

    def day(d: int, nps: int) -> list[DomainEvent]:
        return [*_busy_day(d), make_nps(at=at_day(d, 3), score=nps)]

    flipping = [day(30 + d, 4 if d % 2 else 9) for d in range(1, 13)]
    batches = [[make_profile(at=T0)], *(_busy_day(d) for d in range(31)), *flipping]
    state, results = run(batches, default_model())
    scores = {r.health.health.score for r in results[-12:] if r.health}
    assert min(scores) == 70.0 and max(scores) >= 90.0  # it flips across the re-arm level
    assert len(alerts_of(results, "sudden_drop")) == 1
    # Healthy for a week (the re-arm dwell) ends the episode: a new fall pages again.
    steady = [day(43 + d, 9) for d in range(8)]
    _, later = run([*steady, day(51, 4)], default_model(), state=state)
    assert len(alerts_of(later, "sudden_drop")) == 1
