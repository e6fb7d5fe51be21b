"""Which Kafka broker ``healthscore stack`` embeds: Apache Kafka or Tansu.

``HEALTHSCORE_BROKER=auto`` (the default) runs Apache Kafka when a JVM is
present and its jars can be had (in ``~/.m2``, or ``mvn`` to fetch them), else
Tansu. Apache Kafka is preferred because it is what production runs, and Tansu
differs where a developer notices: it reports partition high-water marks short,
so consumer lag never reaches 0 and a restarted worker's table recovery reads
its changelog only up to the short mark, and older librdkafka clients (Debian's
``kcat`` 1.7) cannot talk to it. Tansu starts in ~0.2 s instead of ~10 s and
needs no JVM, which keeps a bare machine working. ``kafka`` and ``tansu`` force
one; ``kafka`` fails with the reason when Apache Kafka cannot start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from services.stack.process import ServerProcess, StackError

BrokerKind = Literal["kafka", "tansu"]
BrokerRequest = Literal["auto", "kafka", "tansu"]
LABELS: dict[BrokerKind, str] = {"kafka": "Apache Kafka", "tansu": "Tansu"}


@dataclass(frozen=True, slots=True)
class BrokerChoice:
    """The broker to start and why; ``fallback`` allows Tansu if Kafka fails to start."""

    kind: BrokerKind
    why: str
    fallback: bool = False


def choose_broker(requested: BrokerRequest, kafka_unavailable: str | None) -> BrokerChoice:
    """The broker for ``HEALTHSCORE_BROKER=requested``; ``kafka_unavailable`` is
    why Apache Kafka cannot run here (None: it can)."""
    if requested == "tansu":
        return BrokerChoice("tansu", "HEALTHSCORE_BROKER=tansu")
    if requested == "kafka":
        if kafka_unavailable:
            raise StackError(
                f"HEALTHSCORE_BROKER=kafka, but Apache Kafka cannot run here: {kafka_unavailable}."
                " Install Java 17+ and Maven, or set HEALTHSCORE_BROKER=tansu (or auto)."
            )
        return BrokerChoice("kafka", "HEALTHSCORE_BROKER=kafka")
    if kafka_unavailable:
        return BrokerChoice("tansu", f"auto: {kafka_unavailable}")
    return BrokerChoice("kafka", "auto: a JVM and the Kafka jars are here", fallback=True)


def start_broker(
    choice: BrokerChoice,
    host: str,
    port: int,
    say: Callable[[str], None],
    *,
    starters: dict[BrokerKind, Callable[[str, int], ServerProcess]] | None = None,
) -> tuple[ServerProcess, BrokerChoice]:
    """Start the chosen broker on ``host:port`` (0: free); with ``fallback``, Tansu
    when Apache Kafka fails to start (a JVM too old, ``mvn`` without network).

    Returns the server and the choice that actually ran. ``starters`` replaces
    the real start functions in tests.
    """
    start = starters or {"kafka": _start_kafka(say), "tansu": _start_tansu}
    if choice.kind == "kafka":
        try:
            return start["kafka"](host, port), choice
        except StackError as exc:
            if not choice.fallback:
                raise
            reason = str(exc).splitlines()[0]
            say(f"Apache Kafka did not start ({reason}); starting Tansu instead")
            choice = replace(choice, kind="tansu", why=f"auto: Apache Kafka failed: {reason}")
    return start["tansu"](host, port), choice


def _start_kafka(say: Callable[[str], None]) -> Callable[[str, int], ServerProcess]:
    def start(host: str, port: int) -> ServerProcess:
        from services.stack.kafka import start_kafka

        return start_kafka(port or None, progress=say, host=host)

    return start


def _start_tansu(host: str, port: int) -> ServerProcess:
    from services.stack.tansu import start_tansu

    return start_tansu(port, host)
