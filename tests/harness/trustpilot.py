"""Harness and fake of Trustpilot's Business Units API (public endpoints, `apikey` header).

Shapes follow Trustpilot's documentation: `GET /v1/business-units/find?name=<domain>`
answers the business unit (`id`, `displayName`, `name.identifying`, `links`);
`GET /v1/business-units/{id}/reviews?orderBy=createdat.desc&perPage=N&page=P` answers
`{"links": [... "rel": "next-page"], "reviews": [...]}` where each review has `id`, `stars`,
`title`, `text`, `language`, `createdAt`, `consumer` (`displayName`, `numberOfReviews`),
`businessUnit`, `companyReply` (`text`, `authorBusinessUserName`, `createdAt`),
`numberOfLikes`, `isVerified`, `status`, `links`. A missing or wrong key answers 401.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from werkzeug import Request, Response

from tests.conftest import NOW

API_KEY = "tp-test-key-not-a-secret"
UNIT_ID = "4bdd5e8f0000640005061c3a"
DOMAIN = "acmeair.example"
_API = "https://api.trustpilot.com/v1"


def review(
    rid: str, title: str, text: str, *, hours_ago: float, author: str = "Jane D.",
    stars: int = 1, likes: int = 0, reply: str | None = None, language: str = "en",
) -> dict[str, Any]:  # fmt: skip
    """One service review, shaped like the documented `reviews[]` item."""
    created = NOW - timedelta(hours=hours_ago)
    return {
        "links": [{"href": f"{_API}/reviews/{rid}", "method": "GET", "rel": "reviews"}],
        "id": rid,
        "consumer": {
            "links": [{"href": f"{_API}/consumers/c{rid}", "method": "GET", "rel": "consumers"}],
            "id": f"c{rid}",
            "displayName": author,
            "displayLocation": "London, GB",
            "numberOfReviews": 4,
        },
        "businessUnit": {
            "links": [],
            "id": UNIT_ID,
            "identifyingName": DOMAIN,
            "displayName": "Acme Air",
        },
        "location": None,
        "stars": stars,
        "title": title,
        "text": text,
        "language": language,
        "createdAt": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "experiencedAt": created.strftime("%Y-%m-%dT00:00:00.000Z"),
        "updatedAt": None,
        "companyReply": None
        if reply is None
        else {
            "text": reply,
            "authorBusinessUserId": "5f00aa",
            "authorBusinessUserName": "Acme Air Care",
            "createdAt": (created + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "updatedAt": None,
        },
        "isVerified": False,
        "source": "Organic",
        "numberOfLikes": likes,
        "status": "active",
        "reportData": None,
        "complianceLabels": [],
        "countsTowardsTrustScore": True,
        "countsTowardsLocationTrustScore": None,
        "invitation": None,
        "businessUnitHistory": [],
        "reviewVerificationLevel": "not-verified",
    }


def default_reviews() -> list[dict[str, Any]]:
    """Reviews newest first: one with the business's reply, one by the brand's own account."""
    return [
        review("a00000000000000000000001", "Lost my bag", "Acme Air lost my bag in Lisbon",
               hours_ago=1, likes=2, reply="So sorry! Please DM us your file reference."),
        review("a00000000000000000000002", "Lovely crew", "Smooth flight, friendly crew",
               hours_ago=2, stars=5, author="Sam K."),
        review("a00000000000000000000003", "Best airline", "Fly Acme Air!", hours_ago=3,
               stars=5, author="AcmeAir"),
        review("a00000000000000000000004", "Refund", "Still no refund after six weeks",
               hours_ago=5, likes=1),
        review("a00000000000000000000005", "Delayed", "Three hours on the tarmac",
               hours_ago=30, stars=2, language="da"),
    ]  # fmt: skip


class FakeTrustpilot:
    """The find and reviews endpoints of one business unit; `reviews` may be edited."""

    def __init__(self) -> None:
        self.reviews = default_reviews()
        self.requests: list[dict[str, Any]] = []  # path, args and apikey of each call

    def serve(self, server: Any) -> FakeTrustpilot:
        server.expect_request("/v1/business-units/find").respond_with_handler(self._find)
        server.expect_request(f"/v1/business-units/{UNIT_ID}/reviews").respond_with_handler(
            self._reviews
        )
        return self

    def _log(self, request: Request) -> Response | None:
        self.requests.append({"path": request.path, "args": request.args.to_dict(),
                              "apikey": request.headers.get("apikey")})  # fmt: skip
        if request.headers.get("apikey") != API_KEY:
            return _json({"message": "Unauthorized", "errorCode": 401}, 401)
        return None

    def _find(self, request: Request) -> Response:
        if denied := self._log(request):
            return denied
        if request.args.get("name") not in (DOMAIN, f"www.{DOMAIN}"):
            return _json({"message": "Not Found", "errorCode": 404}, 404)
        return _json({
            "links": [{"href": f"{_API}/business-units/{UNIT_ID}", "method": "GET",
                       "rel": "business-units"}],
            "id": UNIT_ID,
            "displayName": "Acme Air",
            "name": {"identifying": DOMAIN, "referring": [DOMAIN, f"www.{DOMAIN}"]},
        })  # fmt: skip

    def _reviews(self, request: Request) -> Response:
        if denied := self._log(request):
            return denied
        if request.args.get("orderBy", "createdat.desc") != "createdat.desc":
            return _json({"message": "only createdat.desc is faked", "errorCode": 400}, 400)
        per_page = int(request.args.get("perPage", 20))
        page = int(request.args.get("page", 1))
        start = (page - 1) * per_page
        items = self.reviews[start : start + per_page]
        base = f"{_API}/business-units/{UNIT_ID}/reviews?perPage={per_page}&page="
        links = [{"href": f"{base}{page - 1}", "method": "GET", "rel": "prev-page"}] * (page > 1)
        if start + per_page < len(self.reviews):
            links.append({"href": f"{base}{page + 1}", "method": "GET", "rel": "next-page"})
        return _json({"links": links, "reviews": items})


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


class TrustpilotHarness:
    type = "trustpilot"
    env: ClassVar[dict[str, str]] = {"TRUSTPILOT_API_KEY": API_KEY}
    http = True

    def options(self, base_url: str, tmp_path: Path) -> dict[str, Any]:
        return {"type": "trustpilot", "domain": DOMAIN, "per_page": 2, "base_url": base_url}

    def serve(self, server: Any) -> None:
        FakeTrustpilot().serve(server)


HARNESS = TrustpilotHarness()
