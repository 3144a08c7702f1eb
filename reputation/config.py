"""Configuration: `load_config(path)` validates everything at once and returns a Config."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from reputation.brands import Brand
from reputation.engine import Policy
from reputation.incidents import IncidentSettings
from reputation.models import SEVERITY_LEVELS
from reputation.muting import QuietHours, Routes
from reputation.retention import RetentionSettings
from reputation.ruleset import Rule, load_rules
from reputation.scoring import ScoringSettings
from reputation.starter import default_rules
from reputation.validate import Checker, ConfigError, Field
from reputation.workflow import SlaSettings

__all__ = ["Config", "ConfigError", "load_config", "resolve_config_path"]

TOP: dict[str, Field] = {
    "database": Field("database", default="data/reputation.db"),
    "brands": Field("any", required=True),
    "connectors": Field("any", required=True),
    "rules": Field("path", default="rules"),
    "sinks": Field("any", default=[{"type": "console"}]),
    "digest": Field("any", default={}),
    "schedule": Field("any", default={}),
    "scoring": Field("any", default={}),
    "routes": Field("any", default={}),
    "incidents": Field("any", default={}),
    "sla": Field("any", default={}),
    "drafts": Field("any", default={}),
    "interactivity": Field("any", default={}),
    "health": Field("any", default={}),
    "retention": Field("any"),  # absent: nothing is pruned (decision 132)
}
HEALTH: dict[str, Field] = {
    "stale_after": Field("duration", default="1h"),
    "channel": Field("str"),
}
# Days to keep each kind of data (reputation/retention.py); 0 keeps it for ever.
RETENTION: dict[str, Field] = {
    "raw_days": Field("int", default=30, min=0),
    "snapshots_days": Field("int", default=14, min=0),
    "mentions_days": Field("int", default=365, min=0),
}
SLA: dict[str, Field] = {
    "enabled": Field("bool"),
    "acknowledge": Field("any"),
    "respond": Field("any"),
    "timezone": Field("str", default="UTC"),
    "workday_starts": Field("str", default="09:00"),
}
INTERACTIVITY: dict[str, Field] = {
    "host": Field("str", default="127.0.0.1"),
    "port": Field("int", default=3000, min=1, max=65535),
}
BRAND: dict[str, Field] = {
    "name": Field("str", required=True),
    "terms": Field("str_list", required=True),
    "exclude": Field("str_list"),
    "own_accounts": Field("str_list"),
}
DIGEST: dict[str, Field] = {
    "dir": Field("path", default="data/digests"),
    "cron": Field("cron", default="5 0 * * *"),
    "channel": Field("str"),
}
SCHEDULE: dict[str, Field] = {"every": Field("duration", default="10m")}
ROUTES: dict[str, Field] = {
    "critical": Field("str"),
    "warning": Field("str"),
    "info": Field("str"),
    "quiet_hours": Field("any", default={}),
}
QUIET: dict[str, Field] = {
    "start": Field("str", required=True),
    "end": Field("str", required=True),
    "timezone": Field("str", default="UTC"),
}
INCIDENTS: dict[str, Field] = {
    "window": Field("duration", default="2h"),
    "close_after": Field("duration", default="6h"),
}
SCORING: dict[str, Field] = {
    "threshold": Field("float", min=0, max=1),
    "prevalence": Field("float", min=0.001, max=0.999),
    "model": Field("path"),
    "model_weight": Field("float", default=0.7, min=0, max=1),
    "workers": Field("any", default=1),
}
PLUGIN: dict[str, Field] = {"type": Field("str", required=True), "name": Field("str")}


@dataclass(frozen=True)
class PluginConfig:
    """A configured connector or sink: its registry type, unique name and checked options."""

    type: str
    name: str
    options: Mapping[str, Any]


@dataclass(frozen=True)
class HealthSettings:
    """`health:`: how long a source may fail before it needs a person, and where health
    changes are announced (default: each Slack sink's channel)."""

    stale_after: timedelta = timedelta(hours=1)
    channel: str | None = None


@dataclass(frozen=True)
class Config:
    """The whole validated configuration; relative paths resolved against the config's folder."""

    path: Path
    database: Path | str  # a SQLite file, or a postgresql:// URL (a str)
    brands: tuple[Brand, ...]
    connectors: tuple[PluginConfig, ...]
    rules: tuple[Rule, ...]
    rules_dir: Path | None  # where the rules were read from (the shipped ones: starter.py)
    sinks: tuple[PluginConfig, ...]
    digest_dir: Path
    digest_cron: str
    every: timedelta
    scoring: ScoringSettings = field(default_factory=ScoringSettings)
    policy: Policy = field(default_factory=Policy)
    sla: SlaSettings = field(default_factory=SlaSettings)
    drafts: Mapping[str, str] = field(default_factory=dict)  # category (or default) -> template
    interactivity: tuple[str, int] = ("127.0.0.1", 3000)  # where `serve` listens for Slack
    health: HealthSettings = field(default_factory=HealthSettings)
    digest_channel: str | None = None  # the day in Slack (default: each Slack sink's channel)
    retention: RetentionSettings | None = None  # None: keep everything


def resolve_config_path(given: str | os.PathLike[str] | None) -> Path:
    """`--config`, else `$REPUTATION_CONFIG`, else `./config.yaml`."""
    return Path(given or os.environ.get("REPUTATION_CONFIG") or "config.yaml")


def load_config(path: str | os.PathLike[str], *, inputs_must_exist: bool = False) -> Config:
    """Read and validate the config at `path`; raise ConfigError listing every problem. With
    `inputs_must_exist` (check-config), a connector's input file that is not there is one of
    them (a run reports that connector as failed and goes on with the others)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read ({exc})"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError([f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    check = Checker(base_dir=path.resolve().parent)
    config = _build(path, data if data is not None else {}, check)
    if config is not None and inputs_must_exist:
        _check_inputs(config.connectors, data.get("connectors"), check)
    check.raise_if_errors()
    assert config is not None
    return config


def _build(path: Path, data: Any, check: Checker) -> Config | None:
    top = check.fields(data, TOP, "")
    if top is None:
        return None
    brands = _brands(top["brands"], check)
    from reputation.connectors import CONNECTORS
    from reputation.sinks import SINKS

    connectors = _plugins(top["connectors"], "connectors", CONNECTORS, check, required=True)
    _check_connector_options(connectors, brands, top["connectors"], check)
    sinks = _plugins(top["sinks"], "sinks", SINKS, check, required=False)
    digest = check.fields(top["digest"], DIGEST, "digest") or {}
    schedule = check.fields(top["schedule"], SCHEDULE, "schedule") or {}
    scoring = _scoring(top["scoring"], check)
    routes = _routes(top["routes"], check)
    incidents = check.fields(top["incidents"], INCIDENTS, "incidents") or {}
    policy = Policy(
        IncidentSettings(
            window=incidents.get("window") or IncidentSettings.window,
            close_after=incidents.get("close_after") or IncidentSettings.close_after,
        ),
        routes,
    )
    rules_dir = top["rules"]
    if rules_dir is not None and "rules" not in data and not rules_dir.is_dir():
        rules_dir = default_rules()  # no `rules:` and no rules/ beside the config
    rules = load_rules(rules_dir, check, brands) if rules_dir is not None else []
    return Config(
        path=path,
        database=top["database"],
        brands=tuple(brands),
        connectors=tuple(connectors),
        rules=tuple(rules),
        rules_dir=rules_dir,
        sinks=tuple(sinks),
        digest_dir=digest.get("dir") or check.base_dir / "data/digests",
        digest_cron=digest.get("cron") or "5 0 * * *",
        every=schedule.get("every") or timedelta(minutes=10),
        scoring=scoring,
        policy=policy,
        sla=_sla(top["sla"], check, sinks),
        drafts=_drafts(top["drafts"], check),
        interactivity=_interactivity(top["interactivity"], check),
        retention=_retention(top["retention"], check),
        health=_health(top["health"], check),
        digest_channel=digest.get("channel"),
    )


def _health(value: Any, check: Checker) -> HealthSettings:
    fields = check.fields(value, HEALTH, "health") or {}
    return HealthSettings(
        stale_after=fields.get("stale_after") or HealthSettings.stale_after,
        channel=fields.get("channel"),
    )


def _retention(value: Any, check: Checker) -> RetentionSettings | None:
    """Days to keep raw payloads, snapshots and mentions (None: no `retention:`, keep all).
    Mentions must outlive the 7 days that flatline rules look back over (decision 133)."""
    if value is None:
        return None
    fields = check.fields(value, RETENTION, "retention") or {}
    settings = RetentionSettings(**{k: v for k, v in fields.items() if v is not None})
    if 0 < settings.mentions_days < 8:
        check.error("retention.mentions_days", "must be 0 (keep) or at least 8 days")
    return settings


def _sla(value: Any, check: Checker, sinks: list[PluginConfig]) -> SlaSettings:
    """The SLA; escalation is on by default only where a Slack sink answers the workflow's
    buttons (without them, nobody could acknowledge in time)."""
    fields = check.fields(value, SLA, "sla") or {}
    enabled = fields.get("enabled")
    if enabled is None:
        enabled = any(s.type == "slack" and (s.options.get("app_token_env")
                      or s.options.get("signing_secret_env")) for s in sinks)  # fmt: skip
    defaults = SlaSettings()
    limits = {}
    for breach in ("acknowledge", "respond"):
        given = fields.get(breach)
        if given is None:
            limits[breach] = getattr(defaults, breach)
            continue
        spec = {level: Field("duration") for level in SEVERITY_LEVELS}
        limits[breach] = {k: v for k, v in (check.fields(given, spec, f"sla.{breach}") or {})
                          .items() if v is not None}  # fmt: skip
    try:
        zone = ZoneInfo(fields.get("timezone") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        check.error("sla.timezone", f"{fields.get('timezone')!r} is not a time zone")
        zone = ZoneInfo("UTC")
    try:
        starts = time.fromisoformat(fields.get("workday_starts") or "09:00")
    except ValueError:
        check.error("sla.workday_starts", f"{fields.get('workday_starts')!r} is not a time like"
                    " 09:00")  # fmt: skip
        starts = defaults.workday_starts
    return SlaSettings(limits["acknowledge"], limits["respond"], zone, starts, enabled)


def _drafts(value: Any, check: Checker) -> dict[str, str]:
    """Reply templates by category (or `default`); each may use {handle}, {issue}, {brand}."""
    from reputation.categories import CATEGORIES
    from reputation.drafts import check_template

    templates = check.mapping(value, "drafts") or {}
    out = {}
    for key, template in templates.items():
        where = f"drafts.{key}"
        if key != "default" and key not in CATEGORIES:
            check.error(where, f"not a category (one of: default, {', '.join(CATEGORIES)})")
        elif not isinstance(template, str) or not template.strip():
            check.error(where, "expected a template text")
        elif problem := check_template(template):
            check.error(where, problem)
        else:
            out[str(key)] = template
    return out


def _interactivity(value: Any, check: Checker) -> tuple[str, int]:
    fields = check.fields(value, INTERACTIVITY, "interactivity") or {}
    return (fields.get("host") or "127.0.0.1", fields.get("port") or 3000)


def _routes(value: Any, check: Checker) -> Routes:
    fields = check.fields(value, ROUTES, "routes") or {}
    quiet: dict[str, QuietHours] = {}
    spans = check.mapping(fields.get("quiet_hours") or {}, "routes.quiet_hours") or {}
    for channel, span in spans.items():
        where = f"routes.quiet_hours.{channel}"
        parts = check.fields(span, QUIET, where)
        if not parts:
            continue
        try:
            zone = ZoneInfo(parts["timezone"] or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            check.error(f"{where}.timezone", f"{parts['timezone']!r} is not a time zone")
            continue
        times = []
        for key in ("start", "end"):
            try:
                times.append(time.fromisoformat(parts[key] or ""))
            except ValueError:
                check.error(f"{where}.{key}", f"{parts[key]!r} is not a time like 22:00")
        if len(times) == 2:
            quiet[str(channel)] = QuietHours(times[0], times[1], zone)
    levels = {
        level: fields[level] for level in ("critical", "warning", "info") if fields.get(level)
    }
    return Routes(by_severity=levels, quiet=quiet)


def _scoring(value: Any, check: Checker) -> ScoringSettings:
    fields = check.fields(value, SCORING, "scoring") or {}
    model = fields.get("model")
    if model is not None and not model.is_file():
        check.error("scoring.model", f"{model} is not a file (train one with `reputation train`)")
    defaults = ScoringSettings()
    threshold = defaults.threshold if fields.get("threshold") is None else fields["threshold"]
    prevalence = fields.get("prevalence") or defaults.prevalence
    if prevalence >= threshold:
        # A post with no sign of a complaint is held at the prevalence: it would count as one.
        check.error(
            "scoring.prevalence",
            f"{prevalence} is not below the threshold ({threshold}); raise scoring.threshold",
        )
    workers = fields.get("workers", 1)
    if workers != "auto" and (type(workers) is not int or workers < 1):
        check.error("scoring.workers", f"{workers!r} is not a whole number from 1, or auto")
        workers = 1
    return ScoringSettings(
        threshold=threshold,
        prevalence=prevalence,
        model=model,
        model_weight=fields.get("model_weight", defaults.model_weight),
        workers=workers,
    )


def _brands(value: Any, check: Checker) -> list[Brand]:
    if not isinstance(value, list) or not value:
        if value is not None:
            check.error("brands", "expected a non-empty list of brands")
        return []
    brands, names = [], set()
    for i, item in enumerate(value):
        fields = check.fields(item, BRAND, f"brands[{i}]")
        if not fields or not fields["name"] or fields["terms"] is None:
            continue
        if fields["name"].casefold() in names:
            check.error(f"brands[{i}].name", f"{fields['name']!r} is already used")
            continue
        names.add(fields["name"].casefold())
        brands.append(
            Brand(
                name=fields["name"],
                terms=tuple(fields["terms"]),
                exclude=tuple(fields["exclude"] or ()),
                own_accounts=tuple(fields["own_accounts"] or ()),
            )
        )
    return brands


def _check_connector_options(
    connectors: list[PluginConfig], brands: list[Brand], raw: Any, check: Checker
) -> None:
    """Let each connector class check its options against the brands: the optional
    `check_options(values, path, check, brands)` classmethod, as rule types have."""
    from reputation.connectors import CONNECTORS

    indexes = _indexes(raw)
    for plugin in connectors:
        check_options = getattr(CONNECTORS[plugin.type], "check_options", None)
        if check_options is not None:
            path = f"connectors[{indexes.get(plugin.name, '?')}]"
            check_options(plugin.options, path, check, brands)


def _check_inputs(connectors: Sequence[PluginConfig], raw: Any, check: Checker) -> None:
    """Report each connector option naming a file to read (a `path` option) that is not there."""
    from reputation.connectors import CONNECTORS

    indexes = _indexes(raw)
    for plugin in connectors:
        for key, spec in CONNECTORS[plugin.type].OPTIONS.items():
            value = plugin.options.get(key)
            if spec.kind == "path" and value is not None and not Path(value).exists():
                where = f"connectors[{indexes.get(plugin.name, '?')}].{key}"
                check.error(where, f"{value} does not exist")


def _indexes(raw: Any) -> dict[str, int]:
    """Each configured plugin's position in its raw list, by name, for error paths."""
    return {
        str(item.get("name") or item.get("type")): i
        for i, item in enumerate(raw if isinstance(raw, list) else [])
        if isinstance(item, Mapping)
    }


def _plugins(
    value: Any, section: str, registry: Mapping[str, Any], check: Checker, required: bool
) -> list[PluginConfig]:
    """Check a list of `{type, name?, ...options}` against the registry's option specs."""
    if not isinstance(value, list) or (required and not value):
        if value is not None:
            check.error(
                section, "expected a list" + (" with at least one entry" if required else "")
            )
        return []
    out: list[PluginConfig] = []
    names: set[str] = set()
    for i, item in enumerate(value):
        where = f"{section}[{i}]"
        if check.mapping(item, where) is None:
            continue
        kind = item.get("type")
        if kind not in registry or not isinstance(kind, str):
            known = ", ".join(sorted(registry))
            problem = "is required" if kind is None else f"{kind!r} is not one of: {known}"
            check.error(f"{where}.type", problem)
            continue
        options = check.fields(item, {**PLUGIN, **registry[kind].OPTIONS}, where)
        name = (options or {}).get("name") or kind
        if name in names:
            check.error(f"{where}.name", f"{name!r} is already used; give each {kind} a name")
            continue
        names.add(name)
        if options is not None:
            out.append(PluginConfig(type=kind, name=name, options=options))
    return out
