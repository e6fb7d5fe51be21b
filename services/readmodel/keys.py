"""Key names of the workspace's projections (see ``store.py`` for the core layout).

``hs:history:{account}`` HASH day (YYYY-MM-DD) -> ``[as_of_us, time_us, score, band]``
    newest score of each day, the most recent ``history_days`` days kept.
``hs:timeline:{account}`` ZSET score = event time (ms), member = entry JSON
    (``timeline.py``), the newest ``timeline_len`` kept.
``hs:dunning:history:{account}`` HASH invoice -> last step's case JSON (``closed`` flag),
    open and closed cases, the oldest dropped past ``dunning_history_len``.
``hs:lifecycle:{account}`` HASH ``v``, ``change`` (latest), ``e:{event id}`` (counted).
``hs:profile:{account}`` HASH ``v``, ``doc`` (``cs.accounts.v1`` fields), ``plan``,
    ``industry``, ``created`` (epoch us).
``hs:accounts:in:{field}:{value}`` SET of account ids: filters band, segment, owner,
    plan, industry, stage (onboarding / active / churned).
``hs:accounts:sort:{arr|change|days_at_risk}`` ZSET (score 0) of ``{key}|{account}``
    members whose byte order is the sort order (see ``listing.py``); like
    ``hs:accounts:by_score`` and the band/segment/owner score indexes, they hold
    the accounts that are not churned.
``hs:accounts:churned:by_score``, ``hs:accounts:churned:sort:{sort}`` ZSET the same
    members for churned accounts (the ``stage=churned`` listing); the health
    hash's ``ix`` says which of the two an account is in (``RESTAGE`` in ``lua.py``).
``hs:accounts:arr`` ZSET account -> ARR cents (the ``arr_min``/``arr_max`` filter).
``hs:month:{YYYY-MM}`` HASH analytics counters: ``new``, ``new_arr``, ``exp_arr``,
    ``con_arr``, ``churned|{dim}|{value}``, ``churned_arr|{dim}|{value}``, and the same
    for ``reactivated``; ``hs:months`` SET of the months that have any.
``hs:pay:{YYYY-MM}:attempts`` / ``:failed`` SET of payment event ids.
``hs:dun:{YYYY-MM}:opened`` / ``:recovered`` / ``:canceled`` SET of ``{account}|{invoice}``.
"""

from __future__ import annotations

from typing import Final

SORTS: Final = ("arr", "change", "days_at_risk")
ARR: Final = "hs:accounts:arr"
MONTHS: Final = "hs:months"


def history_key(account_id: str) -> str:
    return f"hs:history:{account_id}"


def timeline_key(account_id: str) -> str:
    return f"hs:timeline:{account_id}"


def dunning_history_key(account_id: str) -> str:
    return f"hs:dunning:history:{account_id}"


def lifecycle_key(account_id: str) -> str:
    return f"hs:lifecycle:{account_id}"


def profile_key(account_id: str) -> str:
    return f"hs:profile:{account_id}"


def member_set_key(field: str, value: str) -> str:
    return f"hs:accounts:in:{field}:{value}"


def sort_key(sort: str, churned: bool = False) -> str:
    return f"hs:accounts:{'churned:' if churned else ''}sort:{sort}"


def score_index(churned: bool = False) -> str:
    return f"hs:accounts:{'churned:' if churned else ''}by_score"


def month_key(month: str) -> str:
    return f"hs:month:{month}"


def payments_key(month: str, which: str) -> str:
    return f"hs:pay:{month}:{which}"


def dunning_stats_key(month: str, which: str) -> str:
    return f"hs:dun:{month}:{which}"
