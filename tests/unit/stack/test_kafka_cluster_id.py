"""The KRaft cluster id handed to ``kafka-storage format -t``."""

from __future__ import annotations

from base64 import urlsafe_b64decode

from services.stack.kafka import new_cluster_id


def test_an_id_starting_with_a_dash_is_drawn_again() -> None:
    draws = iter([b"\xf8" + bytes(15), b"\x01" * 16])  # the first encodes to "-A..."
    cluster_id = new_cluster_id(lambda: next(draws))
    assert cluster_id == "AQEBAQEBAQEBAQEBAQEBAQ"


def test_ids_are_22_characters_of_a_uuid_and_never_start_with_a_dash() -> None:
    ids = {new_cluster_id() for _ in range(2000)}
    assert len(ids) == 2000
    for cluster_id in ids:
        assert len(cluster_id) == 22 and not cluster_id.startswith("-")
        assert len(urlsafe_b64decode(cluster_id + "==")) == 16
