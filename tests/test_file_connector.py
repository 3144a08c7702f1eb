"""The file connector: JSONL and CSV, incremental reads, snapshots, bad lines, brand matching."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reputation.brands import Brand
from reputation.config import PluginConfig
from reputation.connectors import ALL_BRANDS, FetchContext, encode_state
from reputation.connectors.file import FileConnector
from reputation.pipeline import RunSummary, fetch_into, score_new
from reputation.scoring import Scorer
from reputation.store import Store
from reputation.validate import Checker
from tests.conftest import NOW, record, write_jsonl
from tests.harness import checked_connector

BRANDS = [Brand("Acme Air", ("acme air", "@acmeair"), ("acme air fryer",), ("@acmeair",))]


def connector(path: Path, **options: object) -> FileConnector:
    """A connector whose options went through the same checks as a config file's."""
    return checked_connector(FileConnector, {"path": str(path), **options}, BRANDS)


def plugin(path: Path, name: str = "file") -> PluginConfig:
    """The file connector's config entry for `path`, checked as config loading does."""
    check = Checker()
    options = check.fields({"path": str(path)}, FileConnector.OPTIONS, name)
    check.raise_if_errors()
    return PluginConfig("file", name, options or {})


def fetch_all(conn: FileConnector, cursors: dict[str, str] | None = None):
    """Mentions and problems of one fetch from the saved `cursors`, and the state it leaves
    (encoded, as the store keeps it)."""
    batches = list(conn.fetch(FetchContext(now=NOW, cursors=cursors or {})))
    mentions = [m for b in batches for m in b.mentions]
    problems = [p for b in batches for p in b.problems]
    states = [b.state for b in batches if b.state is not None]
    cursor = encode_state(states[-1]) if states else (cursors or {}).get(ALL_BRANDS)
    return mentions, problems, cursor


def test_jsonl_fields_become_mentions(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    write_jsonl(
        path,
        [
            record(
                "Acme Air lost my bag",
                id="42",
                likes=3,
                shares="2",
                created_at="2026-11-22T09:30:00+02:00",
                parent_id="41",
            )
        ],
    )
    [m], problems, _ = fetch_all(connector(path))
    assert problems == []
    assert (m.key, m.brand, m.likes, m.shares, m.parent_id) == ("x:42", "Acme Air", 3, 2, "41")
    assert m.created_at == datetime(2026, 11, 22, 7, 30, tzinfo=UTC)
    assert m.observed_at == NOW  # no observed_at: the time of reading


def test_malformed_lines_are_reported_by_number_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    lines = [
        json.dumps(record("Acme Air one")),
        "{not json",
        json.dumps(record("Acme Air two", created_at="yesterday")),
        json.dumps(record("Acme Air three", likes=-1)),
        json.dumps(["Acme Air", "a list"]),
        json.dumps({k: v for k, v in record("Acme Air five").items() if k != "id"}),
        json.dumps(record("Acme Air six", brand="Other Co")),
        json.dumps(record("Acme Air seven")),
    ]
    path.write_text("\n".join(lines) + "\n")
    mentions, problems, _ = fetch_all(connector(path))
    assert [m.text for m in mentions] == ["Acme Air one", "Acme Air seven"]
    assert problems == [
        f"{path}:2: is not valid JSON (Expecting property name enclosed in double quotes)",
        f"{path}:3: created_at 'yesterday' is not an ISO 8601 time",
        f"{path}:4: likes -1 is not a whole number of zero or more",
        f"{path}:5: is not a JSON object",
        f"{path}:6: id is missing",
        f"{path}:7: brand 'Other Co' is not configured",
    ]


def test_second_read_from_saved_cursor_yields_nothing_then_only_appended(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    write_jsonl(path, [record("Acme Air a"), record("Acme Air b")])
    first, _, cursor = fetch_all(connector(path))
    assert len(first) == 2
    again, _, cursor2 = fetch_all(connector(path), {ALL_BRANDS: cursor})
    assert again == [] and cursor2 == cursor
    write_jsonl(path, [record("Acme Air c")], mode="a")
    [new], _, _ = fetch_all(connector(path), {ALL_BRANDS: cursor})
    assert new.text == "Acme Air c"


def test_line_numbers_stay_right_after_resuming(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    write_jsonl(path, [record("Acme Air a"), record("Acme Air b")])
    _, _, cursor = fetch_all(connector(path))
    with path.open("a") as handle:
        handle.write("garbage\n")
    _, problems, _ = fetch_all(connector(path), {ALL_BRANDS: cursor})
    assert problems[0].startswith(f"{path}:3: is not valid JSON")


def test_a_half_written_last_line_waits_for_the_next_run(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    whole = json.dumps(record("Acme Air complete")) + "\n"
    half = json.dumps(record("Acme Air partial"))[:30]
    path.write_text(whole + half)
    mentions, problems, cursor = fetch_all(connector(path))
    assert [m.text for m in mentions] == ["Acme Air complete"] and problems == []
    path.write_text(whole + json.dumps(record("Acme Air partial")))  # finished, no newline
    [rest], problems, _ = fetch_all(connector(path), {ALL_BRANDS: cursor})
    assert rest.text == "Acme Air partial" and problems == []


def test_a_replaced_file_is_read_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    write_jsonl(path, [record("Acme Air " + "x" * 200), record("Acme Air y")])
    _, _, cursor = fetch_all(connector(path))
    write_jsonl(path, [record("Acme Air fresh")])  # shorter than the saved offset
    [m], problems, _ = fetch_all(connector(path), {ALL_BRANDS: cursor})
    assert m.text == "Acme Air fresh"
    assert "shrank or was replaced" in problems[0]


def test_csv_with_quoted_newlines_and_formulas(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(
        "id,source,text,author,author_followers,url,created_at,likes,shares,replies,lang,parent_id\n"
        '7,reddit,"Acme Air, why?\nSecond line",bob,10,,2026-11-22T08:00:00Z,1,,2,en,\n'
        "8,x,=HYPERLINK(1) acme air,eve,,,2026-11-22T08:05:00Z,0,0,0,en,\n"
        "9,x,too,few\n"
    )
    mentions, problems, cursor = fetch_all(connector(path))
    assert [(m.key, m.text, m.shares, m.author_followers) for m in mentions] == [
        ("reddit:7", "Acme Air, why?\nSecond line", 0, 10),
        ("x:8", "=HYPERLINK(1) acme air", 0, None),
    ]
    assert problems == [f"{path}:5: has 4 fields, the header has 12"]
    with path.open("a") as handle:
        handle.write("10,x,Acme Air again,al,,,2026-11-22T09:00:00Z,0,0,0,en,\n")
    [m], _, _ = fetch_all(connector(path), {ALL_BRANDS: cursor})
    assert m.key == "x:10"


def test_csv_without_required_header_fails_the_source(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("identifier,body\n1,Acme Air\n")
    with pytest.raises(Exception, match="CSV header lacks created_at, id, text"):
        fetch_all(connector(path))


@pytest.mark.parametrize(
    ("text", "author", "brand"),
    [
        ("Flying Acme Air today", "u", "Acme Air"),
        ("flying ACME   AIR today", "u", "Acme Air"),
        ("thanks @AcmeAir!", "u", "Acme Air"),
        ("my acme air fryer broke", "u", None),  # excluded phrase
        ("acme air fryer broke, and Acme Air lost my bag", "u", "Acme Air"),  # term outside it
        ("the acme airport shuttle", "u", None),  # not a whole word
        ("@acmeairlines is not us", "u", None),
        ("Acme Air here, sorry about that", "@AcmeAir", None),  # the brand's own post
        ("<b>Acme</b> Air lost my bag", "u", "Acme Air"),  # matched on normalized text
    ],
)
def test_brand_matching(tmp_path: Path, text: str, author: str, brand: str | None) -> None:
    path = tmp_path / "m.jsonl"
    write_jsonl(path, [record(text, author=author)])
    mentions, problems, _ = fetch_all(connector(path))
    assert problems == []
    assert [m.brand for m in mentions] == ([brand] if brand else [])


def test_same_id_with_new_counts_is_a_snapshot_not_a_new_mention(
    tmp_path: Path, store: Store
) -> None:
    path = tmp_path / "m.jsonl"
    first = record("Acme Air lost my bag", id="1", likes=5, observed_at="2026-11-22T08:10:00Z")
    write_jsonl(path, [first, {**first, "likes": 50, "observed_at": "2026-11-22T09:10:00Z"}])
    conn = plugin(path)
    summary = RunSummary()
    fetch_into(store, [conn], BRANDS, NOW, summary)
    assert (summary.fetched, summary.new_mentions) == (2, 1)
    write_jsonl(path, [{**first, "likes": 80, "observed_at": "2026-11-22T10:10:00Z"}], mode="a")
    fetch_into(store, [conn], BRANDS, NOW, summary)
    assert summary.new_mentions == 1
    [row] = store._rows("SELECT likes, version FROM mentions")
    assert row == {"likes": 80, "version": 3}
    likes = [r["likes"] for r in store._rows("SELECT likes FROM snapshots ORDER BY observed_at")]
    assert likes == [5, 50, 80]


def test_reach_and_impressions_are_read_per_observation_and_kept_in_its_snapshot(
    tmp_path: Path, store: Store
) -> None:
    path = tmp_path / "m.jsonl"
    first = record("Acme Air lost my bag", id="7", shares=1, observed_at="2026-11-22T08:10:00Z",
                   reshare_reach="300", impressions=900)  # fmt: skip
    later = {**first, "shares": 4, "reshare_reach": 52_000, "impressions": None,
             "observed_at": "2026-11-22T08:30:00Z"}  # fmt: skip
    silent = {k: v for k, v in later.items() if k not in ("reshare_reach", "impressions")}
    silent |= {"shares": 6, "observed_at": "2026-11-22T09:00:00Z"}
    bad = {**later, "id": "8", "reshare_reach": -5}
    write_jsonl(path, [first, later, silent, bad])
    mentions, problems, _ = fetch_all(connector(path))
    assert [(m.reshare_reach, m.impressions) for m in mentions] == [
        (300, 900), (52_000, None), (None, None),
    ]  # fmt: skip
    assert problems == [f"{path}:4: reshare_reach -5 is not a whole number of zero or more"]
    fetch_into(store, [plugin(path)], BRANDS, NOW, RunSummary())
    rows = store._rows(
        "SELECT shares, reshare_reach, impressions FROM snapshots ORDER BY observed_at"
    )
    assert [tuple(r.values()) for r in rows] == [(1, 300, 900), (4, 52_000, None), (6, None, None)]


def test_scoring_reads_the_reach_a_big_account_with_no_reshares_ranks_first(
    tmp_path: Path, store: Store
) -> None:
    path = tmp_path / "m.jsonl"
    at = {"created_at": "2026-11-22T08:00:00Z", "observed_at": "2026-11-22T08:30:00Z"}
    early = {"observed_at": "2026-11-22T08:10:00Z"}
    big = record("Acme Air lost my bag", id="1", author_followers=1_000_000, **at)
    small = [
        record("Acme Air lost my bag", id=native, author_followers=300, shares=1,
               reshare_reach=reach // 3, **{**at, **early})
        for native, reach in (("2", 900), ("3", 2_000_000))
    ]  # fmt: skip
    grown = [{**s, **at, "shares": 3, "reshare_reach": s["reshare_reach"] * 3} for s in small]
    write_jsonl(path, [big, *small, *grown])
    fetch_into(store, [plugin(path)], BRANDS, NOW, RunSummary())
    assert score_new(store, Scorer(), NOW) == (3, [])
    scores = {
        r["mention_key"]: (r["predicted_engagement_24h"], r["viral_risk"])
        for r in store._rows("SELECT * FROM scores")
    }
    assert scores["x:1"] > scores["x:2"]  # a big account, none yet, above a few shares
    assert scores["x:3"] > scores["x:2"]  # the same shares, seen by far more followers


def test_missing_file_is_a_source_error_and_the_run_goes_on(tmp_path: Path, store: Store) -> None:
    good = tmp_path / "good.jsonl"
    write_jsonl(good, [record("Acme Air fine")])
    configs = [
        plugin(tmp_path / "no.jsonl", "missing"),
        plugin(good, "good"),
    ]
    summary = RunSummary()
    fetch_into(store, configs, BRANDS, NOW, summary)
    assert summary.new_mentions == 1
    assert len(summary.errors) == 1 and summary.errors[0].startswith(
        "connector missing: cannot open"
    )


def test_the_brands_own_reply_is_recorded_as_a_response(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "m.jsonl"
    write_jsonl(path, [
        record("Acme Air lost my bag", id="10"),
        record("So sorry! DM us your file reference.", id="11", author="AcmeAir", parent_id="10"),
        record("Acme Air: new routes to Lisbon this spring", id="12", author="@acmeair"),
    ])  # fmt: skip
    summary = RunSummary()
    fetch_into(store, [plugin(path)], BRANDS, NOW, summary)
    assert [r["key"] for r in store._rows("SELECT key FROM mentions")] == ["x:10"]
    assert store._rows("SELECT key, mention_key, author FROM replies") == [
        {"key": "x:11", "mention_key": "x:10", "author": "AcmeAir"}
    ]


def test_a_cursor_saved_by_the_previous_version_resumes_where_it_was(
    tmp_path: Path, store: Store
) -> None:
    path = tmp_path / "m.jsonl"
    write_jsonl(path, [record("Acme Air a"), record("Acme Air b")])
    offset = len(path.read_bytes())
    # Written by the code before states were the framework's: json.dumps(state, sort_keys=True).
    old = f'{{"inode": {path.stat().st_ino}, "line": 3, "offset": {offset}}}'
    store.save_batch("file", [], NOW, scope=ALL_BRANDS, cursor=old)
    write_jsonl(path, [record("Acme Air c")], mode="a")
    summary = RunSummary()
    fetch_into(store, [plugin(path)], BRANDS, NOW, summary)
    assert (summary.errors, summary.warnings) == ([], [])
    assert [r["text"] for r in store._rows("SELECT text FROM mentions")] == ["Acme Air c"]
    assert json.loads(store.cursors("file")[ALL_BRANDS]) == {
        "inode": path.stat().st_ino, "line": 4, "offset": len(path.read_bytes()),
    }  # fmt: skip


@pytest.mark.parametrize("saved", ["not json", "[1, 2]", '{"offset": "x", "line": 1}'])
def test_an_unreadable_saved_state_is_reported_once_and_read_from_the_start(
    tmp_path: Path, store: Store, saved: str
) -> None:
    path = tmp_path / "m.jsonl"
    write_jsonl(path, [record("Acme Air a"), record("Acme Air b")])
    store.save_batch("file", [], NOW, scope=ALL_BRANDS, cursor=saved)
    summary = RunSummary()
    fetch_into(store, [plugin(path)], BRANDS, NOW, summary)
    assert summary.warnings == [
        "connector file: saved state for scope * is unreadable, starting over"
    ]
    assert summary.new_mentions == 2
    again = RunSummary()
    fetch_into(store, [plugin(path)], BRANDS, NOW, again)
    assert (again.warnings, again.new_mentions) == ([], 0)


def test_csv_line_numbers_count_quoted_newlines_and_survive_resuming(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(
        "id,text,created_at\n"
        '1,"Acme Air\nlost\nmy bag",2026-11-22T08:00:00Z\n'
        "2,Acme Air again,2026-11-22T08:01:00Z\n"
    )
    mentions, problems, cursor = fetch_all(connector(path))
    assert ([m.native_id for m in mentions], problems) == (["1", "2"], [])
    assert json.loads(cursor) == {"inode": path.stat().st_ino, "line": 6,
                                  "offset": len(path.read_bytes())}  # fmt: skip
    with path.open("a") as handle:
        handle.write("3,Acme Air,yesterday\n4,Acme Air fine,2026-11-22T08:02:00Z\n")
    mentions, problems, _ = fetch_all(connector(path), {ALL_BRANDS: cursor})
    assert [m.native_id for m in mentions] == ["4"]
    assert problems == [f"{path}:6: created_at 'yesterday' is not an ISO 8601 time"]
    path.write_text("id,text,created_at\n5,Acme Air,2026-11-22T08:03:00Z\n")  # shorter
    mentions, problems, _ = fetch_all(connector(path), {ALL_BRANDS: cursor})
    assert [m.native_id for m in mentions] == ["5"]
    assert "shrank or was replaced" in problems[0]


def test_a_long_file_is_read_in_batches_each_with_the_offset_after_it(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    write_jsonl(path, [record(f"Acme Air {i}", id=str(i)) for i in range(1, 1201)])
    batches = list(connector(path).fetch(FetchContext(now=NOW)))
    assert [len(b.mentions) for b in batches] == [500, 500, 200]
    lines = path.read_bytes().splitlines(keepends=True)
    assert [b.state["line"] for b in batches] == [501, 1001, 1201]
    assert [b.state["offset"] for b in batches] == [
        len(b"".join(lines[:500])), len(b"".join(lines[:1000])), len(b"".join(lines)),
    ]  # fmt: skip
