"""Rule types spike, flatline and new_term, table-driven, through the store and the engine."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from reputation.engine import evaluate_rules, load_rules
from reputation.ruleset import Rule
from reputation.store import Store
from reputation.validate import Checker
from tests.conftest import NOW, T0, scored

H, D = 60, 1440  # minutes in an hour, a day
REPO = Path(__file__).resolve().parent.parent


def rules_from(tmp_path: Path, text: str) -> list[Rule]:
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    (folder / "rule.yaml").write_text(text)
    check = Checker(folder)
    rules = load_rules(folder, check)
    assert check.errors == []
    return rules


def alerts(store: Store) -> list[dict]:
    return store._rows("SELECT * FROM alerts ORDER BY event_at, group_key")


def groups(store: Store) -> list[tuple[str, str]]:
    """(brand, group value) of every alert, sorted."""
    return sorted((a["brand"], json.loads(a["labels"])["group"]) for a in alerts(store))


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


# -- spike -----------------------------------------------------------------------------------

# Reference mentions sit in [0, 10], current ones in [45, 60]: at each current mention the
# current window (30 min) holds the current mentions so far and the reference window holds
# all the reference ones.
SPIKE = (
    "name: spike\ntype: spike\nwhere: {sentiment: {lte: -0.05}}\ntimeframe: 30m\n"
    "spike_height: 2\nthreshold_cur: 2\nthreshold_ref: 1\nrealert: 1h\n"
)
SAME_HOUR = SPIKE + "baseline: same_hour\nbaseline_days: 3\n"
A, B = "Acme Air", "Beta Bank"

SPIKE_CASES = [
    # (label, rule, mentions as (minute, sentiment[, brand]), alerts as (brand, group))
    ("fires at spike_height", SPIKE, [(0, -0.5), (45, -0.5), (50, -0.5)], [(A, A)]),
    ("below spike_height", SPIKE, [(0, -0.5), (5, -0.5), (45, -0.5), (50, -0.5), (55, -0.5)], []),
    (
        "needs threshold_cur",
        SPIKE.replace("threshold_cur: 2", "threshold_cur: 4"),
        [(0, -0.5), (45, -0.5), (50, -0.5), (55, -0.5)],
        [],
    ),
    (
        "fires at threshold_cur",
        SPIKE.replace("threshold_cur: 2", "threshold_cur: 4"),
        [(0, -0.5), (45, -0.5), (50, -0.5), (55, -0.5), (60, -0.5)],
        [(A, A)],
    ),
    ("threshold_ref: no reference, no ratio", SPIKE, [(45, -0.5), (50, -0.5), (55, -0.5)], []),
    (
        "threshold_ref 0: from nothing is a spike",
        SPIKE.replace("threshold_ref: 1", "threshold_ref: 0"),
        [(45, -0.5), (50, -0.5)],
        [(A, A)],
    ),
    # At minute 45 the mention of minute 15 is at the current window's start: it counts as
    # current (2 vs 1: fires), not as reference (it would be 2 vs 2).
    ("window edge is current, not reference", SPIKE, [(0, -0.5), (15, -0.5), (45, -0.5)], [(A, A)]),
    ("current window is the timeframe", SPIKE, [(0, -0.5), (45, -0.5), (76, -0.5)], []),
    ("where filters what is counted", SPIKE, [(0, -0.5), (45, 0.5), (50, -0.5)], []),
    ("where filters the reference", SPIKE, [(0, 0.5), (5, -0.5), (45, -0.5), (50, -0.5)], [(A, A)]),
    ("counted per brand", SPIKE, [(0, -0.5), (0, -0.5, B), (45, -0.5), (50, -0.5, B)], []),
    (
        "grouped per brand",
        SPIKE,
        [(0, -0.5), (0, -0.5, B), (45, -0.5), (47, -0.5, B), (50, -0.5)],
        [(A, A)],
    ),
    (
        "realert: one alert per hour",
        SPIKE,
        [(0, -0.5), *[(m, -0.5) for m in (45, 50, 55, 60)]],
        [(A, A)],
    ),
    (
        "again after realert",
        SPIKE,
        [(0, -0.5), (45, -0.5), (50, -0.5), (200, -0.5), (245, -0.5), (250, -0.5)],
        [(A, A), (A, A)],
    ),
    # same_hour, 3 days: the windows 08:20-08:50 of the three days before.
    (
        "same_hour: mean of past days",
        SAME_HOUR,
        [(-D + 40, -0.5), (-D + 41, -0.5), (-2 * D + 40, -0.5), (45, -0.5), (50, -0.5)],
        [(A, A)],  # 2 vs (2 + 1 + 0) / 3
    ),
    (
        "same_hour: below the mean's height",
        SAME_HOUR,
        [
            (-D + 40, -0.5),
            (-D + 41, -0.5),
            (-D + 42, -0.5),
            (-2 * D + 40, -0.5),
            (45, -0.5),
            (50, -0.5),
        ],
        [],  # 2 vs 4/3: needs 2.67
    ),
    (
        "same_hour: ignores the previous window",
        SAME_HOUR,
        [(0, -0.5), (45, -0.5), (50, -0.5)],
        [],  # reference 0 < threshold_ref
    ),
    (
        "same_hour: only the same window counts",
        SAME_HOUR,
        [(-D + 19, -0.5), (-D + 51, -0.5), (-2 * D + 40, -0.5), (45, -0.5), (50, -0.5)],
        [],  # 1/3 a day < threshold_ref: 08:19 and 08:51 are outside 08:20-08:50
    ),
]


@pytest.mark.parametrize(
    ("label", "rule", "mentions", "expected"), SPIKE_CASES, ids=[c[0] for c in SPIKE_CASES]
)
def test_spike(
    tmp_path: Path, store: Store, label: str, rule: str, mentions: list[tuple], expected: list
) -> None:
    rules = rules_from(tmp_path, rule)
    for i, (minute, sentiment, *brand) in enumerate(mentions):
        scored(store, str(i), minute, sentiment, brand=brand[0] if brand else A)
    assert evaluate_rules(store, rules, ["console"], NOW) == len(expected)
    assert groups(store) == sorted(expected)
    assert evaluate_rules(store, rules, ["console"], NOW) == 0


def test_spike_query_key_source(tmp_path: Path, store: Store) -> None:
    rules = rules_from(tmp_path, SPIKE + "query_key: source\n")
    scored(store, "r", 0, source="reddit")
    scored(store, "x1", 0)
    scored(store, "r1", 45, source="reddit")
    scored(store, "x2", 46)
    scored(store, "x3", 50)  # x: 2 vs 1; reddit: 1 vs 1
    assert evaluate_rules(store, rules, ["console"], NOW) == 1
    [alert] = alerts(store)
    assert (alert["brand"], alert["group_key"]) == (A, "spike|Acme Air|x")
    assert alert["summary"] == (
        "2 mentions of Acme Air (source x) in 30 min, 2.0x the previous 30 min"
    )


def test_spike_summary_reasons_and_evidence(tmp_path: Path, store: Store) -> None:
    rules = rules_from(tmp_path, "description: complaints piling up\n" + SPIKE)
    scored(store, "0", 0)
    scored(store, "1", 44, 0.6)  # does not match `where`: not evidence
    for i, minute in enumerate((45, 48, 50), start=2):
        scored(store, str(i), minute)
    assert evaluate_rules(store, rules, ["console"], NOW) == 1
    [alert] = alerts(store)
    assert alert["summary"] == "2 mentions of Acme Air in 30 min, 2.0x the previous 30 min"
    assert json.loads(alert["reasons"])[:2] == ["complaints piling up", "spike: 2 vs 1 before"]
    assert alert["event_at"] == "2026-11-22T08:48:00.000000Z"
    keys = store._rows("SELECT mention_key FROM alert_mentions ORDER BY 1")
    assert [r["mention_key"] for r in keys] == ["x:2", "x:3"]


def test_spike_same_hour_summary(tmp_path: Path, store: Store) -> None:
    rules = rules_from(tmp_path, SAME_HOUR)
    for i, minute in enumerate((-D + 40, -D + 41, -2 * D + 40, 45, 50)):
        scored(store, str(i), minute)
    evaluate_rules(store, rules, ["console"], NOW)
    [alert] = alerts(store)
    assert alert["summary"] == (
        "2 mentions of Acme Air in 30 min, 2.0x the same 30 min on the past 3 days (mean 1.0)"
    )
    assert "spike: 2 vs 1.0 a day at this time (3-day mean)" in json.loads(alert["reasons"])


# -- flatline --------------------------------------------------------------------------------

FLAT = "name: quiet\ntype: flatline\ntimeframe: 6h\n"

FLAT_CASES = [
    # (label, rule, mentions as (source, minute[, sentiment, brand]), now (minute), alerts)
    ("quiet longer than timeframe", FLAT, [("x", 0)], 6 * H + 1, [("*", "x")]),
    ("a mention at the window's start counts", FLAT, [("x", 0)], 6 * H, []),
    ("active source", FLAT, [("x", 0), ("x", 5 * H)], 6 * H + 1, []),
    ("per source", FLAT, [("x", 0), ("reddit", 5 * H)], 6 * H + 1, [("*", "x")]),
    ("all quiet sources", FLAT, [("x", 0), ("reddit", 10)], 7 * H, [("*", "reddit"), ("*", "x")]),
    ("not seen in 7 days: not watched", FLAT, [("x", 0)], 7 * D + 1, []),
    ("seen 7 days ago: watched", FLAT, [("x", 0)], 7 * D, [("*", "x")]),
    ("mentions after now do not count", FLAT, [("x", 0), ("x", 7 * H)], 6 * H + 1, [("*", "x")]),
    (
        "where filters what is counted",
        FLAT + "where: {sentiment: {lte: -0.05}}\n",
        [("x", 0), ("x", 5 * H, 0.5)],
        6 * H + 1,
        [("*", "x")],
    ),
    (
        "a source with no matching mention is not watched",
        FLAT + "where: {sentiment: {lte: -0.05}}\n",
        [("x", 0), ("reddit", 0, 0.5)],
        6 * H + 1,
        [("*", "x")],
    ),
    ("below threshold", FLAT + "threshold: 3\n", [("x", 1 * H), ("x", 2 * H)], 4 * H, [("*", "x")]),
    ("at threshold", FLAT + "threshold: 3\n", [("x", m * H) for m in (1, 2, 3)], 4 * H, []),
    (
        "per brand",
        FLAT + "query_key: brand\n",
        [("x", 0), ("x", 5 * H, -0.5, B)],
        6 * H + 1,
        [(A, A)],
    ),
]


@pytest.mark.parametrize(
    ("label", "rule", "mentions", "now", "expected"), FLAT_CASES, ids=[c[0] for c in FLAT_CASES]
)
def test_flatline(
    tmp_path: Path, store: Store, label: str, rule: str, mentions: list[tuple], now: int,
    expected: list,
) -> None:  # fmt: skip
    rules = rules_from(tmp_path, rule)
    for i, (source, minute, *rest) in enumerate(mentions):
        sentiment, brand = (rest + [-0.5, A][len(rest) :])[:2]
        scored(store, str(i), minute, sentiment, source=source, brand=brand)
    assert evaluate_rules(store, rules, ["console"], at(now)) == len(expected)
    assert groups(store) == sorted(expected)
    for alert in alerts(store):
        assert alert["status"] == "pending" and alert["resolved_at"] is None
        assert store._rows("SELECT * FROM alert_mentions") == []  # no mention to show


def test_flatline_episode_fires_once_clears_and_fires_again(tmp_path: Path, store: Store) -> None:
    rules = rules_from(tmp_path, FLAT + "realert: 1h\n")
    scored(store, "1", 0)
    assert evaluate_rules(store, rules, ["console"], at(6 * H + 10)) == 1
    [first] = alerts(store)
    assert first["group_key"] == "quiet|*|x" and first["brand"] == "*"
    assert first["summary"] == "no mentions from x for 6h 10m (last at 2026-11-22 08:00 UTC)"
    assert "flatline: 0 in 6h, threshold 1" in json.loads(first["reasons"])

    # Still quiet, long after realert: the same quiet spell, no second alert.
    assert evaluate_rules(store, rules, ["console"], at(10 * H)) == 0
    assert evaluate_rules(store, rules, ["console"], at(2 * D)) == 0

    # Mentions come back: the alert is resolved, nothing new is sent.
    scored(store, "4", 2 * D + 5)
    assert evaluate_rules(store, rules, ["console"], at(2 * D + 10)) == 0
    [resolved] = alerts(store)
    assert resolved["resolved_at"] == "2026-11-24T08:10:00.000000Z"
    assert evaluate_rules(store, rules, ["console"], at(2 * D + 20)) == 0  # stays resolved
    assert alerts(store)[0]["resolved_at"] == "2026-11-24T08:10:00.000000Z"

    # A later gap is a new spell: a new alert.
    assert evaluate_rules(store, rules, ["console"], at(2 * D + 6 * H + 6)) == 1
    later = alerts(store)[1]
    assert later["resolved_at"] is None
    assert later["summary"] == "no mentions from x for 6h 1m (last at 2026-11-24 08:05 UTC)"


def test_flatline_realert_holds_back_a_new_spell(tmp_path: Path, store: Store) -> None:
    rules = rules_from(tmp_path, FLAT + "realert: 1d\n")
    scored(store, "1", 0)
    assert evaluate_rules(store, rules, ["console"], at(6 * H + 10)) == 1
    scored(store, "2", 7 * H)
    assert evaluate_rules(store, rules, ["console"], at(7 * H)) == 0  # cleared
    assert evaluate_rules(store, rules, ["console"], at(13 * H + 1)) == 0  # quiet again, within 1d
    assert len(alerts(store)) == 1
    assert evaluate_rules(store, rules, ["console"], at(31 * H)) == 1  # 1d after the first alert


def test_flatline_threshold_spell_is_anchored_to_the_last_full_window(
    tmp_path: Path, store: Store
) -> None:
    rules = rules_from(tmp_path, FLAT + "threshold: 2\n")
    scored(store, "1", 0)
    scored(store, "2", 60)
    assert evaluate_rules(store, rules, ["console"], at(8 * H)) == 1
    assert alerts(store)[0]["summary"] == (
        "no mentions from x for 7h (last at 2026-11-22 09:00 UTC)"
    )
    scored(store, "3", 9 * H)  # one mention in the gap: still below 2, the same spell
    assert evaluate_rules(store, rules, ["console"], at(10 * H)) == 0
    assert alerts(store)[0]["resolved_at"] is None
    scored(store, "4", 10 * H)  # two within 6h: back
    assert evaluate_rules(store, rules, ["console"], at(10 * H + 1)) == 0
    assert alerts(store)[0]["resolved_at"] == "2026-11-22T18:01:00.000000Z"


def test_flatline_below_threshold_summary(tmp_path: Path, store: Store) -> None:
    rules = rules_from(tmp_path, FLAT + "threshold: 3\nquery_key: brand\n")
    scored(store, "1", 60)
    scored(store, "2", 120)
    evaluate_rules(store, rules, ["console"], at(4 * H))
    [alert] = alerts(store)
    assert (alert["brand"], alert["group_key"]) == (A, "quiet|Acme Air|Acme Air")
    assert alert["summary"] == (
        "only 2 mentions of Acme Air in 6h, fewer than 3 (last at 2026-11-22 10:00 UTC)"
    )


# -- new_term --------------------------------------------------------------------------------

NEW = "name: new\ntype: new_term\n"
TAGS = NEW + "field: hashtags\n"

NEW_CASES = [
    # (label, rule, mentions as (minute, category[, text, brand, sentiment]), alerts)
    (
        "new category",
        NEW,
        [(-2 * D, "other"), (0, "privacy_security")],
        [(A, "privacy_security")],
    ),
    ("category seen before", NEW, [(-2 * D, "privacy_security"), (0, "privacy_security")], []),
    ("min_history: too little history", NEW, [(-D + 1, "other"), (0, "privacy_security")], []),
    (
        "min_history: just enough",
        NEW,
        [(-D, "other"), (0, "privacy_security")],
        [(A, "privacy_security")],
    ),
    (
        "min_history option",
        NEW + "min_history: 3d\n",
        [(-2 * D, "other"), (0, "privacy_security")],
        [],
    ),
    (
        "terms_window: seen too long ago",
        NEW,
        [(-40 * D, "privacy_security"), (0, "privacy_security")],
        [(A, "privacy_security")],
    ),
    (
        "terms_window option",
        NEW + "terms_window: 60d\n",
        [(-40 * D, "privacy_security"), (0, "privacy_security")],
        [],
    ),
    (
        "per brand",
        NEW,
        [(-2 * D, "privacy_security", None, B), (-2 * D, "other"), (0, "privacy_security")],
        [(A, "privacy_security")],
    ),
    (
        "where filters the history",
        NEW + "where: {sentiment: {lte: -0.05}}\n",
        [(-2 * D, "privacy_security", None, A, 0.5), (0, "privacy_security")],
        [(A, "privacy_security")],
    ),
    ("field: source", NEW + "field: source\n", [(-2 * D, "other"), (0, "other")], []),
    (
        "hashtags: one new, one seen",
        TAGS,
        [(-2 * D, "other", "love #AcmeAir"), (0, "other", "#acmeair #Outage again #outage")],
        [(A, "#outage")],
    ),
    (
        "hashtags: each new one fires",
        TAGS,
        [(-2 * D, "other", "hello"), (0, "other", "#outage and #refund_now")],
        [(A, "#outage"), (A, "#refund_now")],
    ),
    (
        "hashtags: a longer tag is another tag",
        TAGS,
        [(-2 * D, "other", "#outages"), (0, "other", "#outage")],
        [(A, "#outage")],
    ),
    (
        "hashtags: _ is not a wildcard",
        TAGS,
        [(-2 * D, "other", "#onXtime"), (0, "other", "#on_time")],
        [(A, "#on_time")],
    ),
    ("hashtags: case-blind", TAGS, [(-2 * D, "other", "#CAFÉ crème"), (0, "other", "#café")], []),
    ("hashtags: none in the text", TAGS, [(-2 * D, "other", "hello"), (0, "other", "hi")], []),
    (
        "hashtags: terms_window",
        TAGS,
        [(-40 * D, "other", "#outage"), (-2 * D, "other", "hi"), (0, "other", "#outage")],
        [(A, "#outage")],
    ),
]


@pytest.mark.parametrize(
    ("label", "rule", "mentions", "expected"), NEW_CASES, ids=[c[0] for c in NEW_CASES]
)
def test_new_term(
    tmp_path: Path, store: Store, label: str, rule: str, mentions: list[tuple], expected: list
) -> None:
    rules = rules_from(tmp_path, rule)
    for i, (minute, category, *rest) in enumerate(mentions):
        text, brand, sentiment = (rest + [None, A, -0.5][len(rest) :])[:3]
        scored(store, str(i), minute, sentiment, brand=brand, category=category, text=text)
    assert evaluate_rules(store, rules, ["console"], NOW) == len(expected)
    assert groups(store) == sorted(expected)
    assert evaluate_rules(store, rules, ["console"], NOW) == 0


def test_new_term_summary(tmp_path: Path, store: Store) -> None:
    rules = rules_from(tmp_path, NEW)
    scored(store, "1", -40 * D)
    scored(store, "2", 0, category="privacy_security")
    scored(store, "3", 5, brand=B)
    scored(store, "4", 2 * D, brand=B, category="privacy_security")
    assert evaluate_rules(store, rules, ["console"], NOW) == 2  # "1" and "3": too little history
    summaries = {a["summary"] for a in alerts(store)}
    assert summaries == {
        "first 'privacy_security' mention of Acme Air in 30 days",
        "first 'privacy_security' mention of Beta Bank since records began on 2026-11-22",
    }
    [alert] = [a for a in alerts(store) if a["group_key"] == "new|Acme Air|privacy_security"]
    assert "new category: 'privacy_security', none in 30 days" in json.loads(alert["reasons"])
    evidence = store._rows("SELECT mention_key FROM alert_mentions WHERE fingerprint = ?",
                          [alert["fingerprint"]])  # fmt: skip
    assert evidence == [{"mention_key": "x:2"}]


@pytest.mark.parametrize(("realert", "expected"), [("1h", 1), ("1m", 2)])
def test_new_term_realert(tmp_path: Path, store: Store, realert: str, expected: int) -> None:
    rules = rules_from(tmp_path, NEW + f"realert: {realert}\n")
    scored(store, "0", -2 * D)
    scored(store, "b", 0, category="privacy_security")
    evaluate_rules(store, rules, ["console"], NOW)
    scored(store, "a", -5, category="privacy_security")  # arrives late, yet created first
    evaluate_rules(store, rules, ["console"], NOW)
    assert len(alerts(store)) == expected


# -- configuration ---------------------------------------------------------------------------

BAD = [
    ("spike without spike_height", "type: spike\ntimeframe: 30m\n", ".spike_height: is required"),
    (
        "spike_height must exceed 1",
        "type: spike\ntimeframe: 30m\nspike_height: 1\n",
        ".spike_height: 1.0 is below the minimum 1.01",
    ),
    ("spike without timeframe", "type: spike\nspike_height: 3\n", ".timeframe: is required"),
    (
        "spike baseline",
        "type: spike\ntimeframe: 30m\nspike_height: 3\nbaseline: weekly\n",
        ".baseline: 'weekly' is not one of: previous, same_hour",
    ),
    (
        "same_hour timeframe",
        "type: spike\ntimeframe: 2d\nspike_height: 3\nbaseline: same_hour\n",
        ".timeframe: must be at most 1d with baseline: same_hour",
    ),
    (
        "threshold_ref",
        "type: spike\ntimeframe: 30m\nspike_height: 3\nthreshold_ref: -1\n",
        ".threshold_ref: -1 is below the minimum 0",
    ),
    ("flatline without timeframe", "type: flatline\n", ".timeframe: is required"),
    (
        "flatline threshold",
        "type: flatline\ntimeframe: 6h\nthreshold: 0\n",
        ".threshold: 0 is below the minimum 1",
    ),
    (
        "flatline num_events",
        "type: flatline\ntimeframe: 6h\nnum_events: 3\n",
        ".num_events: unknown key (expected one of: description, enabled, name, query_key,"
        " realert, route, severity, threshold, timeframe, type, where)",
    ),
    (
        "new_term field",
        "type: new_term\nfield: text\n",
        ".field: 'text' is not one of: category, hashtags, source, lang, author",
    ),
    (
        "new_term terms_window",
        "type: new_term\nterms_window: soon\n",
        ".terms_window: 'soon' is not a duration (use e.g. 90s, 10m, 4h, 7d, 1h30m)",
    ),
]


@pytest.mark.parametrize(("label", "text", "error"), BAD, ids=[c[0] for c in BAD])
def test_bad_options_name_file_and_key(tmp_path: Path, label: str, text: str, error: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\n" + text)
    check = Checker(tmp_path)
    assert load_rules(tmp_path, check) == []
    assert check.errors == [f"{path}{error}"]


def test_shipped_flatline_is_valid_and_disabled(tmp_path: Path) -> None:
    text = (REPO / "rules" / "source-flatline.yaml").read_text()
    check = Checker(REPO / "rules")
    assert "source-flatline" not in [r.name for r in load_rules(REPO / "rules", check)]
    assert check.errors == []
    enabled = text.replace("enabled: false", "enabled: true")
    assert enabled != text
    [rule] = rules_from(tmp_path, enabled)
    assert (rule.name, rule.type, rule.query_key) == ("source-flatline", "flatline", "source")


# -- the RuleType contract, over every registered type -------------------------------------

MINIMAL = {
    "any": "",
    "frequency": "num_events: 1\ntimeframe: 30m\n",
    "spike": "timeframe: 30m\nspike_height: 2\n",
    "flatline": "timeframe: 1h\n",
    "new_term": "min_history: 1m\n",
}


def test_every_rule_type_is_in_the_contract_test() -> None:
    from reputation.ruletypes import RULE_TYPES

    assert set(RULE_TYPES) == set(MINIMAL)


@pytest.mark.parametrize("kind", sorted(MINIMAL))
def test_a_rule_type_fires_a_list_scans_and_explains_itself(
    kind: str, tmp_path: Path, store: Store
) -> None:
    from reputation.brands import Brand
    from reputation.ruletypes import RULE_TYPES, Firing, Scan, rule_reason

    scored(store, "1", 0, category="legal")
    scored(store, "2", 5, category="outage_bug", text="#acmedown")
    [rule] = rules_from(tmp_path, f"name: t\ntype: {kind}\ndescription: why it fired\n"
                                  + MINIMAL[kind])  # fmt: skip
    rule_type = RULE_TYPES[kind]
    [row] = [r for r in store.unevaluated() if r["key"] == "x:2"]
    fired = rule_type.fire(rule, row, store)
    found = rule_type.scan(rule, store, at(8 * H))
    assert isinstance(fired, list) and isinstance(found, Scan)
    firings = fired + found.firings
    assert firings, "each minimal rule fires on this store, per mention or by scanning"
    for firing in firings:
        assert isinstance(firing, Firing) and firing.summary
        assert firing.reasons[0].startswith(rule_reason(rule)) and rule_reason(rule)
    check = Checker(tmp_path)
    rule_type.check_options(dict(rule.options), "rule.yaml", check, [Brand("Acme Air", ("a",))])
    assert check.errors == []
