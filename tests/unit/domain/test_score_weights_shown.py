"""The weights a score shows: each rescaled weight in percent, two decimals,
worked out once per weight layout (dressing a score is on the hot path)."""

from __future__ import annotations

from streams.domain.scoring import score as score_module
from streams.domain.scoring.score import ScoreParts, _percents, assemble, build_score
from streams.domain.scoring.state import AccountState
from tests.unit.domain.factories import ACCOUNT, at_day, default_model


def _parts(raws: list[float | None]) -> ScoreParts:
    model = default_model()
    weights = model.weights_for(None)
    scores_t = [-1 if raw is None else 500 for raw in raws]
    parts = assemble(model, weights, raws, scores_t)
    assert parts is not None
    return parts


def test_shown_weights_are_the_rescaled_weights_to_two_decimals() -> None:
    model = default_model()
    # usage 15, features 10, data 5 of 30 -> 50 %, 33.33 %, 16.67 %;
    # usage 15, support 10 of 25 -> 60 %, 40 %; data 5, support 10, nps 10 -> 20 %, 40 %, 40 %
    for raws in (
        [1.0, 1.0, 1.0, None, None, None, None, None],
        [1.0, None, None, 1.0, None, None, None, None],
        [None, None, 1.0, 1.0, None, 1.0, None, None],
    ):
        parts = _parts(raws)
        score = build_score(AccountState(ACCOUNT), parts, model, at_day(3), None)
        shown = [d.weight for d in score.dimensions]
        assert shown == [round(f * 100, 2) for f in parts.weights]
        assert sum(shown) in (100.0, 99.99, 100.01)
        assert [d.name for d in score.dimensions] == list(parts.names)
        assert [d.score_tenths for d in score.dimensions] == list(parts.scores_t)
        assert [d.contribution_tenths for d in score.dimensions] == list(parts.contributions_t)


def test_a_layout_s_shown_weights_are_worked_out_once() -> None:
    parts = _parts([1.0, 1.0, None, None, 1.0, None, None, None])
    again = _parts([2.0, 3.0, None, None, 4.0, None, None, None])  # same data pattern
    assert again.weights is parts.weights  # the layout is shared ...
    assert _percents(again.weights) is _percents(parts.weights)  # ... and so is what it shows


def test_the_shown_weights_memory_is_bounded() -> None:
    for i in range(score_module._MAX_LAYOUTS + 10):
        assert _percents((i / 1000.0, 1.0 - i / 1000.0)) == (
            round(i / 1000.0 * 100, 2),
            round((1.0 - i / 1000.0) * 100, 2),
        )
    assert len(score_module._PERCENTS) <= score_module._MAX_LAYOUTS
