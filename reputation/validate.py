"""Declarative checks for config mappings that collect every error with its path."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_DURATION_FULL = re.compile(r"^\s*(\d+\s*[smhdw]\s*)+$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ConfigError(Exception):
    """Raised with every problem found in a configuration, each naming where it is."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


def parse_duration(text: str) -> timedelta:
    """Parse `90s`, `10m`, `4h`, `7d`, `2w` or combinations like `1h30m`; raise ValueError."""
    if not isinstance(text, str) or not _DURATION_FULL.match(text):
        raise ValueError(f"{text!r} is not a duration (use e.g. 90s, 10m, 4h, 7d, 1h30m)")
    seconds = sum(int(n) * _UNITS[u] for n, u in _DURATION.findall(text))
    if seconds <= 0:
        raise ValueError(f"{text!r} is not a positive duration")
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class Field:
    """One expected key: its kind (str, int, float, bool, duration, path, url, env,
    str_list, choice, cron, any), whether it is required, its default and bounds (a
    duration's in seconds). `bare_seconds` lets a duration also be a whole number of seconds,
    as older configs wrote it."""

    kind: str
    required: bool = False
    default: Any = None
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    bare_seconds: bool = False


class Checker:
    """Collects errors as `path: message` while converting raw YAML values."""

    def __init__(self, base_dir: Path | None = None):
        self.errors: list[str] = []
        self.base_dir = base_dir or Path.cwd()

    def error(self, path: str, message: str) -> None:
        """Record one error at `path`."""
        self.errors.append(f"{path}: {message}" if path else message)

    def raise_if_errors(self) -> None:
        """Raise ConfigError with everything collected so far, if anything."""
        if self.errors:
            raise ConfigError(list(self.errors))

    def mapping(self, value: Any, path: str) -> Mapping[str, Any] | None:
        """Return `value` if it is a mapping with string keys, else record an error."""
        if not isinstance(value, Mapping):
            self.error(path, f"expected a mapping, got {_kind_of(value)}")
            return None
        return value

    def fields(self, value: Any, spec: Mapping[str, Field], path: str) -> dict[str, Any] | None:
        """Check a mapping against `spec`: unknown keys, missing keys, and each value's kind."""
        data = self.mapping(value, path)
        if data is None:
            return None
        out: dict[str, Any] = {}
        for key in data:
            if key not in spec:
                known = ", ".join(sorted(spec))
                self.error(_join(path, key), f"unknown key (expected one of: {known})")
        for key, field in spec.items():
            where = _join(path, key)
            if key not in data or data[key] is None:
                if field.required:
                    self.error(where, "is required")
                out[key] = self._default(field)
                continue
            out[key] = self.convert(data[key], field, where)
        return out

    def _default(self, field: Field) -> Any:
        if field.kind == "duration" and isinstance(field.default, str):
            return parse_duration(field.default)
        if field.kind in ("path", "database") and isinstance(field.default, str):
            return self.base_dir / field.default
        if field.kind == "str_list" and field.default is None:
            return []
        return field.default

    def convert(self, value: Any, field: Field, path: str) -> Any:
        """Convert one raw value to `field.kind`, recording an error and returning None if wrong."""
        converter = getattr(self, f"_to_{field.kind}")
        try:
            result = converter(value, field)
        except ValueError as exc:
            self.error(path, str(exc))
            return None
        return result

    def _to_any(self, value: Any, field: Field) -> Any:
        return value

    def _to_str(self, value: Any, field: Field) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"expected a non-empty string, got {_kind_of(value)}")
        return value

    def _to_choice(self, value: Any, field: Field) -> str:
        if value not in field.choices:
            raise ValueError(f"{value!r} is not one of: {', '.join(field.choices)}")
        return value

    def _to_bool(self, value: Any, field: Field) -> bool:
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {_kind_of(value)}")
        return value

    def _to_int(self, value: Any, field: Field) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected a whole number, got {_kind_of(value)}")
        return self._bounded(value, field)

    def _to_float(self, value: Any, field: Field) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number, got {_kind_of(value)}")
        return self._bounded(float(value), field)

    def _bounded(self, value: Any, field: Field) -> Any:
        if field.min is not None and value < field.min:
            raise ValueError(f"{value} is below the minimum {field.min:g}")
        if field.max is not None and value > field.max:
            raise ValueError(f"{value} is above the maximum {field.max:g}")
        return value

    def _to_duration(self, value: Any, field: Field) -> timedelta:
        if field.bare_seconds and isinstance(value, int) and not isinstance(value, bool):
            value = f"{value}s"
        delta = parse_duration(value)
        seconds = delta.total_seconds()
        if field.min is not None and seconds < field.min:
            raise ValueError(f"{value} is below the minimum {field.min:g}s")
        if field.max is not None and seconds > field.max:
            raise ValueError(f"{value} is above the maximum {field.max:g}s")
        return delta

    def _to_path(self, value: Any, field: Field) -> Path:
        text = self._to_str(value, field)
        path = Path(text).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    def _to_database(self, value: Any, field: Field) -> Path | str:
        """A SQLite file (a path, as `_to_path`) or a `postgresql://` URL, kept as text."""
        text = self._to_str(value, field)
        if not text.startswith(("postgresql:", "postgres:")):
            return self._to_path(text, field)
        if not re.match(r"^postgres(ql)?://[^\s]*$", text):
            raise ValueError("a PostgreSQL database is a URL: postgresql://user@host:5432/name")
        return text

    def _to_url(self, value: Any, field: Field) -> str:
        text = self._to_str(value, field)
        if not re.match(r"^https?://[^\s/]+", text):
            raise ValueError(f"{text!r} is not an http(s) URL")
        return text

    def _to_env(self, value: Any, field: Field) -> str:
        # Never echo the value: a user may have pasted the secret itself here.
        if not isinstance(value, str) or not _ENV_NAME.match(value):
            raise ValueError(
                "must name an environment variable (letters, digits, _), not hold the secret "
                "itself; put the secret in the environment"
            )
        return value

    def _to_str_list(self, value: Any, field: Field) -> list[str]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ValueError("expected a list of non-empty strings")
        return list(value)

    def _to_cron(self, value: Any, field: Field) -> str:
        from reputation.crontab import crontab_trigger

        text = self._to_str(value, field)
        try:
            crontab_trigger(text)
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a crontab expression ({exc})") from None
        return text


def defaults(spec: Mapping[str, Field]) -> dict[str, Any]:
    """Every key of `spec` at its default, converted as a config's would be (relative paths
    against the working directory)."""
    checker = Checker()
    return {key: checker._default(field) for key, field in spec.items()}


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else str(key)


def _kind_of(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) < 40 else "a string"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__
