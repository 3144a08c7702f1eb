"""Batched ingest: new mentions are written many at once, and a batch that holds a mention
and a later observation of it still stores both, in order."""

from __future__ import annotations

from datetime import timedelta

from reputation.models import Mention
from reputation.store import Store
from tests.conftest import NOW, T0


def test_a_new_mention_and_its_later_observation_in_one_batch(store: Store) -> None:
    def seen(native: str, minutes: int, likes: int) -> Mention:
        later = T0 + timedelta(minutes=minutes)
        return Mention(source="x", native_id=native, brand="Acme Air", text=f"post {native}",
                       created_at=T0, observed_at=later, likes=likes)  # fmt: skip

    batch = [seen("1", 0, 1), seen("2", 0, 0), seen("1", 60, 9), seen("3", 5, 2), seen("1", 30, 4)]
    stats = store.save_batch("file", batch, NOW)
    assert (stats.new, stats.updated, stats.refused) == (3, 2, [])
    rows = {r["key"]: r for r in store._rows("SELECT key, likes, version FROM mentions")}
    # The latest observation holds the counts; the late one (30 min) is history only.
    assert rows["x:1"]["likes"] == 9 and rows["x:1"]["version"] == 3
    assert rows["x:2"]["version"] == rows["x:3"]["version"] == 1
    history = store.snapshots(["x:1", "x:3"])
    assert [s["likes"] for s in history["x:1"]] == [1, 4, 9] and len(history["x:3"]) == 1
    assert len(store.mentions_to_score()) == 3
