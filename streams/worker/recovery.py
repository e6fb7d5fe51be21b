"""Table recovery, measured and bounded (``streams.observability.recovery``).

Faust reports a rebalance to its sensors: ``on_rebalance_return`` once the
new assignment is taken (table recovery starts), ``on_rebalance_end`` once
the tables are restored and streams resume. The sensor here times that
span into ``healthscore_table_recovery_seconds`` and a log line, and stops
the worker when one runs past ``HEALTHSCORE_RECOVERY_TIMEOUT_SECONDS``, so a
recovery that never ends becomes a restart that an orchestrator and an
operator see (pod restarts, HealthscoreTargetDown) instead of a worker that
is up and consumes nothing. The check is a timer of the sensor itself (a
service Faust starts with the app): the app's own timers only start after
the first recovery has completed.
"""

from __future__ import annotations

import logging
from typing import Any

from faust.sensors import Sensor
from mode import Service

from streams.observability import metrics
from streams.observability.recovery import RecoveryTimer
from streams.worker.app import app, settings

log = logging.getLogger(__name__)


class RecoveryTimeoutError(RuntimeError):
    """A table recovery ran past its bound."""


class RecoverySensor(Sensor):
    def __init__(self, owner: Any, bound_s: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.owner = owner
        self.bound_s = bound_s
        self.watch = RecoveryTimer()

    def on_rebalance_return(self, app: Any, state: dict[str, Any]) -> None:
        self.watch.begin()

    def on_rebalance_end(self, app: Any, state: dict[str, Any]) -> None:
        seconds = self.watch.end()
        if seconds is None:
            return
        metrics.TABLE_RECOVERY_SECONDS.set(seconds)
        log.info(
            "table recovery finished",
            extra={"seconds": round(seconds, 3), "rebalance": app.rebalancing_count},
        )

    @Service.timer(1.0)
    async def _bound(self) -> None:
        """Stop the worker once a recovery has run past its bound."""
        taken = self.watch.overdue(self.bound_s)
        if taken is None:
            return
        log.error("table recovery over its bound", extra={"seconds": round(taken, 3)})
        await self.owner.crash(
            RecoveryTimeoutError(
                f"table recovery still running after {taken:.0f} s"
                f" (HEALTHSCORE_RECOVERY_TIMEOUT_SECONDS={self.bound_s:g});"
                " stopping, to be restarted and recover afresh"
            )
        )


app.sensors.add(RecoverySensor(app, settings.recovery_timeout_seconds))
