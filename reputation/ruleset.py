"""Rule files: the Rule record, loading `rules/*.yaml`, and compiling `where` conditions."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from reputation.brands import Brand
from reputation.models import ROW_FIELDS, SEVERITY_LEVELS, Row, field_value
from reputation.ruletypes import RULE_TYPES
from reputation.validate import Checker, Field

Predicate = Callable[[Row], bool]

COMMON: dict[str, Field] = {
    "name": Field("str", required=True),
    "type": Field("str", required=True),
    "description": Field("str"),
    "where": Field("any"),
    "realert": Field("duration", default="1h"),
    "severity": Field("any", default="warning"),
    "route": Field("str"),
    "query_key": Field("str"),
    "enabled": Field("bool", default=True),
}
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a is not None and a < b,
    "lte": lambda a, b: a is not None and a <= b,
    "gt": lambda a, b: a is not None and a > b,
    "gte": lambda a, b: a is not None and a >= b,
    "in": lambda a, b: a in b,
    "not_in": lambda a, b: a not in b,
    "contains": lambda a, b: a is not None and str(b).casefold() in str(a).casefold(),
}
_NUMERIC_OPS = {"lt", "lte", "gt", "gte"}


@dataclass(frozen=True)
class Rule:
    """One rule file: what to match, how often to alert, how severe, and where to."""

    name: str
    type: str
    path: Path
    matches: Predicate
    realert: timedelta
    levels: tuple[tuple[float, str], ...]
    route: str | None = None
    query_key: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    description: str | None = None
    enabled: bool = True  # a disabled rule runs only when `rules test` is given its file

    def level(self, severity: float) -> str:
        """The alert level for a score severity: the highest threshold it reaches."""
        chosen = self.levels[0][1]
        for threshold, level in self.levels:
            if severity >= threshold:
                chosen = level
        return chosen


def load_rules(directory: Path, check: Checker, brands: Sequence[Brand] = ()) -> list[Rule]:
    """Load every enabled `*.yaml`/`*.yml` rule in `directory`, recording errors in `check`
    (rule types may check their options against the configured `brands`). A name used twice
    is an error even when either file has other errors, or is disabled: each is reported
    at once, not after the others are fixed."""
    if not directory.is_dir():
        check.error("rules", f"{directory} is not a directory")
        return []
    paths = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    return [rule for rule in _load_named(paths, check, brands) if rule.enabled]


def load_rule_files(paths: list[Path], check: Checker, brands: Sequence[Brand] = ()) -> list[Rule]:
    """Load the given rule files (for `rules test`), disabled ones included (`Rule.enabled`
    says which), recording errors in `check`."""
    found = []
    for path in paths:
        if path.is_file():
            found.append(path)
        else:
            check.error(str(path), "no such rule file")
    return _load_named(found, check, brands)


def _load_named(paths: list[Path], check: Checker, brands: Sequence[Brand]) -> list[Rule]:
    """The rules of `paths`, in order; a name already used by an earlier file is an error
    and that file's rule is left out."""
    rules = []
    seen: dict[str, Path] = {}
    for path in paths:
        name, rule = _load_rule(path, check, brands)
        if name is not None and name in seen:
            check.error(str(path), f"name: {name!r} is already used by {seen[name]}")
            continue
        if name is not None:
            seen[name] = path
        if rule is not None:
            rules.append(rule)
    return rules


def _load_rule(
    path: Path, check: Checker, brands: Sequence[Brand]
) -> tuple[str | None, Rule | None]:
    """The rule's name (if the file gives one) and the rule (None if the file has errors)."""
    where = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        check.error(where, f"cannot read: {exc}")
        return None, None
    except yaml.YAMLError as exc:
        check.error(where, f"is not valid YAML: {_yaml_problem(exc)}")
        return None, None
    name = data.get("name") if isinstance(data, Mapping) else None
    name = name if isinstance(name, str) and name.strip() else None
    kind = data.get("type") if isinstance(data, Mapping) else None
    rule_type = RULE_TYPES.get(kind) if isinstance(kind, str) else None
    if isinstance(kind, str) and rule_type is None:
        check.error(f"{where}: type", f"{kind!r} is not a rule type ({', '.join(RULE_TYPES)})")
    spec = {**COMMON, **(rule_type.OPTIONS if rule_type else {})}
    before = len(check.errors)
    values = check.fields(data, spec, where)
    if values is None:
        return name, None
    if rule_type is not None and len(check.errors) == before:
        rule_type.check_options(values, where, check, brands)  # after each option is valid
    matches = compile_where(values["where"], f"{where}: where", check)
    levels = _levels(values["severity"], f"{where}: severity", check)
    query_key = values["query_key"]
    if query_key is not None and query_key not in ROW_FIELDS:
        check.error(f"{where}: query_key", f"{query_key!r} is not a mention or score field")
    if len(check.errors) > before or not isinstance(kind, str) or rule_type is None:
        return name, None
    return name, Rule(
        name=values["name"],
        type=kind,
        path=path,
        matches=matches,
        realert=values["realert"],
        levels=levels,
        route=values["route"],
        query_key=query_key,
        options={k: values[k] for k in rule_type.OPTIONS},
        description=values["description"],
        enabled=values["enabled"],
    )


def compile_where(spec: Any, path: str, check: Checker) -> Predicate:
    """Compile a `where` mapping (field: value | {op: value}, plus any/all/not) to a predicate."""
    if spec is None:
        return lambda row: True
    if not isinstance(spec, Mapping):
        check.error(path, "expected a mapping of field: condition")
        return lambda row: False
    parts: list[Predicate] = []
    for key, condition in spec.items():
        here = f"{path}.{key}"
        if key in ("any", "all"):
            if not isinstance(condition, list) or not condition:
                check.error(here, "expected a non-empty list of conditions")
                continue
            subs = [compile_where(c, f"{here}[{i}]", check) for i, c in enumerate(condition)]
            parts.append(_any_of(subs) if key == "any" else _all_of(subs))
        elif key == "not":
            parts.append(_none_of([compile_where(condition, here, check)]))
        elif key not in ROW_FIELDS:
            check.error(here, f"unknown field (expected one of: {', '.join(sorted(ROW_FIELDS))})")
        else:
            parts.append(_condition(key, condition, here, check))
    return _all_of(parts)


# Plain loops, and a single condition left unwrapped: a rule's `where` runs on every
# mention and every row of its windows, and generator expressions cost more than the tests.
def _any_of(predicates: list[Predicate]) -> Predicate:
    if len(predicates) == 1:
        return predicates[0]

    def any_of(row: Row) -> bool:
        for predicate in predicates:  # noqa: SIM110 - a loop is faster than any(...)
            if predicate(row):
                return True
        return False

    return any_of


def _all_of(predicates: list[Predicate]) -> Predicate:
    if len(predicates) == 1:
        return predicates[0]

    def all_of(row: Row) -> bool:
        for predicate in predicates:  # noqa: SIM110 - a loop is faster than all(...)
            if not predicate(row):
                return False
        return True

    return all_of


def _none_of(predicates: list[Predicate]) -> Predicate:
    return lambda row: not any(p(row) for p in predicates)


def _condition(field_name: str, condition: Any, path: str, check: Checker) -> Predicate:
    if not isinstance(condition, Mapping):
        condition = {"in": condition} if isinstance(condition, list) else {"eq": condition}
    tests: list[tuple[Callable[[Any, Any], bool], Any]] = []
    for op, value in condition.items():
        if op not in _OPS:
            check.error(f"{path}.{op}", f"unknown operator (expected one of: {', '.join(_OPS)})")
        elif op in _NUMERIC_OPS and (isinstance(value, bool) or not isinstance(value, int | float)):
            check.error(f"{path}.{op}", f"expected a number, got {value!r}")
        elif op in ("in", "not_in") and not isinstance(value, list):
            check.error(f"{path}.{op}", "expected a list")
        else:
            tests.append((_OPS[op], value))

    def predicate(row: Row) -> bool:
        have = field_value(row, field_name)
        try:
            for test, value in tests:
                if not test(have, value):
                    return False
        except TypeError:  # a text field compared with a number: no match, not a crash
            return False
        return True

    return predicate


def _levels(spec: Any, path: str, check: Checker) -> tuple[tuple[float, str], ...]:
    """`warning` alone, or {level: minimum score severity} for severity that grows."""
    if isinstance(spec, str):
        if spec not in SEVERITY_LEVELS:
            check.error(path, f"{spec!r} is not one of: {', '.join(SEVERITY_LEVELS)}")
        return ((0.0, spec),)
    if not isinstance(spec, Mapping) or not spec:
        check.error(path, "expected a level (info, warning, critical) or {level: min severity}")
        return ((0.0, "warning"),)
    levels = []
    for level, threshold in spec.items():
        if level not in SEVERITY_LEVELS:
            check.error(f"{path}.{level}", f"is not one of: {', '.join(SEVERITY_LEVELS)}")
        elif isinstance(threshold, bool) or not isinstance(threshold, int | float):
            check.error(f"{path}.{level}", "expected a score severity between 0 and 1")
        elif not 0 <= threshold <= 1:
            check.error(f"{path}.{level}", f"{threshold} is not between 0 and 1")
        else:
            levels.append((float(threshold), level))
    levels.sort(key=lambda pair: (pair[0], SEVERITY_LEVELS.index(pair[1])))
    return tuple(levels) or ((0.0, "warning"),)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark else problem
