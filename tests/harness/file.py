"""Harness for the `file` connector: a local JSON Lines file, no remote API."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from tests.conftest import record, write_jsonl


class FileHarness:
    type = "file"
    env: ClassVar[dict[str, str]] = {}
    http = False

    def options(self, base_url: str, tmp_path: Path) -> dict[str, Any]:
        path = tmp_path / "contract.jsonl"
        write_jsonl(path, [
            record("Acme Air lost my bag", id="f1"),
            record("Acme Air crew was lovely", id="f2", minutes=5),
            record("my acme air fryer is great", id="f3", minutes=6),
            record("Acme Air: new routes", id="f4", author="@acmeair", minutes=7),
        ])  # fmt: skip
        return {"type": "file", "path": str(path)}

    def serve(self, server: Any) -> None:
        return None


HARNESS = FileHarness()
