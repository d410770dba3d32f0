"""Campaign definition files: their format, and a loader that validates them.

A campaign is data, not code (DESIGN.md): each campaign the app ships lives in
``casework/campaigns/definitions/<code>.yaml`` and is read with :func:`load_definition`.
The format, field by field, is the set of pydantic models below; an example:

.. code-block:: yaml

    code: zhongwei-2021-conduct            # slug, unique; also the file name
    title: 中卫市医疗卫生行业作风专项治理行动实施方案（2021—2022年）
    title_en: ...
    issuing_body: 中卫市卫生健康委员会
    issuing_body_en: Zhongwei Municipal Health Commission
    document_number: null                   # e.g. 渝北卫健〔2023〕396号
    region: "640500"                        # quoted: a code, not a number
    starts_on: 2021-04-01
    ends_on: 2022-12-31
    summary: ...
    phases:      [{kind, name, name_en, starts_on, ends_on, description}]
    key_tasks:   [{code, title, title_en, description}]
    coverage:    [{code, label, label_en, institution_types, levels, ownership, target_percent}]
    cadences:    [{kind, frequency, due_day, levels, description, description_en}]
    indicators:  [{code, dimension, name, unit, target_kind, target_value, target_text,
                   lead_unit, applies_to}]

Every problem in a file is reported at once, each with its location, in a
:class:`DefinitionError`. The same YAML reading and error style serve the demo data
files (``casework/demo/data_files.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

DEFINITIONS_DIR = Path(__file__).with_name("definitions")

# The identifiers are the models' (labels in casework/labels.py).
from casework.campaigns.models import (  # noqa: E402  (re-exported for the schemas below)
    CADENCE_KINDS,
    FREQUENCIES,
    PHASE_KINDS,
    TARGET_KINDS,
    UNITS,
)
from casework.institutions.models import INSTITUTION_LEVELS as LEVELS  # noqa: E402
from casework.institutions.models import INSTITUTION_TYPES, OWNERSHIPS  # noqa: E402

# Target kinds that compare a measured value with `target_value`, and those that must not
# carry one (the direction or the per-level counts live in `target_text`).
VALUED_TARGETS = ("at_least", "at_most", "exactly")
UNVALUED_TARGETS = ("increase", "decrease", "per_level_count", "none")
# Upper bound of a target value by unit: a rate cannot exceed its whole.
UNIT_MAXIMUM = {"%": 100, "‰": 1000}

PhaseKind = Literal[PHASE_KINDS]
CadenceKind = Literal[CADENCE_KINDS]
Frequency = Literal[FREQUENCIES]
TargetKind = Literal[TARGET_KINDS]
Unit = Literal[UNITS]
InstitutionType = Literal[INSTITUTION_TYPES]
Level = Literal[LEVELS]
Ownership = Literal[OWNERSHIPS]
# What an indicator may be restricted to: levels, institution types and ownership.
# Values of one category are alternatives; categories combine (["tertiary", "public"] is
# "tertiary public institutions").
Applicability = Literal[LEVELS + INSTITUTION_TYPES + OWNERSHIPS]


# --------------------------------------------------------------------------- errors


class DefinitionError(Exception):
    """A data file that cannot be used, with every problem found in it.

    ``problems`` are one-line strings, each starting with the location in the file
    (``phases[2].ends_on: ends before starts_on (2021-05-31 < 2021-06-01)``).
    """

    def __init__(
        self, path: str | Path, problems: Iterable[str], what: str = "campaign definition"
    ):
        self.path = Path(path)
        self.problems = list(problems) or ["unknown problem"]
        self.what = what
        super().__init__(self.path, self.problems, what)

    def __str__(self) -> str:
        n = len(self.problems)
        head = f"{self.path}: invalid {self.what} ({n} problem{'s' if n != 1 else ''}):"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


# --------------------------------------------------------------------------- YAML


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and leaves dates as text.

    PyYAML keeps the last of two equal keys silently, and turns ``2021-02-30`` into a
    bare ValueError with no position; dates are parsed by the models instead, where a
    bad one gets its location like any other field.
    """

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # "<<": PyYAML merges it
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # unhashable key: let PyYAML report it
                break
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"duplicate key {key!r} (first at line {first.line + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml(path: str | Path, what: str = "campaign definition") -> dict[str, Any]:
    """The top-level mapping of the YAML file at `path`.

    Raises DefinitionError if the file cannot be read, is not YAML, or is not a mapping.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(path, [f"cannot read the file: {exc}"], what) from exc
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        problem = exc.problem or exc.context or "syntax error"
        if not isinstance(exc, yaml.constructor.ConstructorError):
            problem = f"YAML syntax error: {problem}"
        raise DefinitionError(path, [f"{where}: {problem}"], what) from exc
    except yaml.YAMLError as exc:
        raise DefinitionError(path, [f"YAML syntax error: {exc}"], what) from exc
    if data is None:
        raise DefinitionError(path, ["the file is empty"], what)
    if not isinstance(data, dict):
        raise DefinitionError(
            path, [f"(top level): expected a mapping of fields, got {_kind(data)}"], what
        )
    return data


# --------------------------------------------------------------------------- validation

M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: Any, path: str | Path, what: str = "campaign definition") -> M:
    """`data` validated as `model`; DefinitionError listing every problem otherwise."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError(path, validation_problems(exc), what) from None


def location(loc: Sequence[str | int]) -> str:
    """``("phases", 2, "ends_on")`` -> ``phases[2].ends_on``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def validation_problems(exc: ValidationError) -> list[str]:
    """One readable line per pydantic error, in file order."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = location(err["loc"])
        problems.append(f"{loc}: {_message(err)}")
    return problems


def _message(err: dict[str, Any]) -> str:
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    if kind == "missing":
        return "missing required field"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "literal_error":
        return f"unknown value {_show(value)}; expected one of {ctx.get('expected')}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} item(s)"
    if kind == "string_pattern_mismatch":
        return f"{_show(value)} is not valid here: {_PATTERN_HINTS.get(ctx.get('pattern'), ctx.get('pattern'))}"
    if kind == "value_error":
        return str(ctx.get("error") or err["msg"])
    if kind == "string_type" and isinstance(value, int | float) and not isinstance(value, bool):
        return f'expected text, got the number {value!r}; put codes in quotes ("{value}")'
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of fields, got {_kind(value)}"
    if kind.endswith("_type"):
        return f"{err['msg'].replace('Input should be', 'expected')}, got {_kind(value)}"
    msg = err["msg"].replace("Input should be", "must be")
    return f"{msg} (got {_show(value)})"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _show(value: Any) -> str:
    return "null" if value is None else repr(value)


# --------------------------------------------------------------------------- field types

_SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_REGION_CODE = r"^[0-9]{6}$"
_PATTERN_HINTS = {
    _SLUG: "use lowercase letters, digits and single hyphens (e.g. 'service-attitude')",
    _REGION_CODE: 'use the 6-digit administrative division code, quoted (e.g. "640500")',
}


def _parse_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"not a valid date: {value!r} ({exc})") from None
    raise ValueError(f"expected a date written YYYY-MM-DD, got {_kind(value)}")


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Slug = Annotated[str, StringConstraints(pattern=_SLUG, max_length=32)]
CampaignCode = Annotated[str, StringConstraints(pattern=_SLUG, max_length=64)]
RegionCode = Annotated[str, StringConstraints(pattern=_REGION_CODE)]
IsoDate = Annotated[date, BeforeValidator(_parse_date)]


class Strict(BaseModel):
    """Base of every data-file model: no unknown fields, no silent type coercion."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


# --------------------------------------------------------------------------- the format


class Phase(Strict):
    """A dated stage of the campaign. Phases may overlap (a tackling phase lies inside
    a rectification phase) and are listed in order of their start dates."""

    kind: PhaseKind
    name: Text
    name_en: Text
    starts_on: IsoDate
    ends_on: IsoDate
    description: Text


class KeyTask(Strict):
    """A 重点任务: a category of findings and an item of the inspection checklist."""

    code: Slug
    title: Text
    title_en: Text
    description: Text


class CoverageRule(Strict):
    """Share of the institutions matching the rule that the campaign must reach.

    An institution matches when its type is listed, its level is listed (``levels``
    null: any level) and its ownership equals ``ownership`` (null: either).
    """

    code: Slug
    label: Text
    label_en: Text
    institution_types: list[InstitutionType] = Field(min_length=1)
    levels: list[Level] | None = Field(default=None, min_length=1)
    ownership: Ownership | None = None
    target_percent: int = Field(ge=0, le=100)


class Cadence(Strict):
    """A recurring report or notice.

    ``due_day`` is the day of the month it is due by in the period's last month (a day
    past the month's end means its last day); null means the last day of the period.
    ``levels`` limits it to institutions of those levels; null means all.
    """

    kind: CadenceKind
    frequency: Frequency
    due_day: int | None = Field(default=None, ge=1, le=31)
    levels: list[Level] | None = Field(default=None, min_length=1)
    description: Text
    description_en: Text


class Indicator(Strict):
    """A monitoring indicator (监测指标) with its target as the document states it."""

    code: Slug
    dimension: Text
    name: Text
    unit: Unit
    target_kind: TargetKind
    target_value: float | None = None
    target_text: Text | None = None
    lead_unit: Text | None = None
    applies_to: list[Applicability] | None = Field(default=None, min_length=1)


class CampaignDefinition(Strict):
    """One campaign definition file."""

    code: CampaignCode
    title: Text
    title_en: Text
    issuing_body: Text
    issuing_body_en: Text
    document_number: Text | None = None
    region: RegionCode
    starts_on: IsoDate
    ends_on: IsoDate
    summary: Text
    phases: list[Phase] = Field(min_length=1)
    key_tasks: list[KeyTask] = Field(min_length=1)
    coverage: list[CoverageRule] = Field(min_length=1)
    cadences: list[Cadence] = Field(default_factory=list)
    indicators: list[Indicator] = Field(default_factory=list)


# --------------------------------------------------------------------------- loading


def load_definition(path: str | Path) -> CampaignDefinition:
    """The campaign definition in the YAML file at `path`.

    Raises DefinitionError naming the file and every problem in it: YAML syntax,
    missing or unknown fields, wrong types or values, and inconsistencies (dates out of
    order or outside the campaign, duplicate codes, targets that do not fit their kind).
    """
    data = read_yaml(path)
    definition = validate(CampaignDefinition, data, path)
    problems = check_definition(definition)
    if problems:
        raise DefinitionError(path, problems)
    return definition


def load_definitions(directory: str | Path = DEFINITIONS_DIR) -> list[CampaignDefinition]:
    """Every ``*.yaml`` definition in `directory`, sorted by file name.

    Each file must be named after its code (``<code>.yaml``), which keeps codes unique.
    Raises DefinitionError for the first file with problems.
    """
    definitions = []
    for path in sorted(Path(directory).glob("*.yaml")):
        definition = load_definition(path)
        if definition.code != path.stem:
            raise DefinitionError(
                path, [f"code: {definition.code!r} does not match the file name {path.name!r}"]
            )
        definitions.append(definition)
    return definitions


def check_definition(d: CampaignDefinition) -> list[str]:
    """Problems that span fields of a structurally valid definition, in file order."""
    problems: list[str] = []
    if d.ends_on < d.starts_on:
        problems.append(f"ends_on: ends before starts_on ({d.ends_on} < {d.starts_on})")
    problems += _check_phases(d)
    for field in ("key_tasks", "coverage", "indicators"):
        problems += _duplicate_codes(field, getattr(d, field))
    problems += _check_coverage(d.coverage)
    for i, c in enumerate(d.cadences):
        problems += _duplicates(f"cadences[{i}].levels", c.levels or [])
    for i, ind in enumerate(d.indicators):
        problems += _check_indicator(f"indicators[{i}]", ind)
    return problems


def _check_phases(d: CampaignDefinition) -> list[str]:
    problems = []
    for i, p in enumerate(d.phases):
        at = f"phases[{i}]"
        if p.ends_on < p.starts_on:
            problems.append(f"{at}.ends_on: ends before starts_on ({p.ends_on} < {p.starts_on})")
        if p.starts_on < d.starts_on:
            problems.append(
                f"{at}.starts_on: before the campaign starts ({p.starts_on} < {d.starts_on})"
            )
        if p.ends_on > d.ends_on:
            problems.append(f"{at}.ends_on: after the campaign ends ({p.ends_on} > {d.ends_on})")
        if i and p.starts_on < d.phases[i - 1].starts_on:
            problems.append(
                f"{at}.starts_on: phases must be listed in order of their start dates"
                f" ({p.starts_on} is before phases[{i - 1}].starts_on {d.phases[i - 1].starts_on})"
            )
        if p.kind == "tackling" and not any(
            q.kind == "rectification" and q.starts_on <= p.starts_on and p.ends_on <= q.ends_on
            for q in d.phases
        ):
            problems.append(
                f"{at}: a tackling phase must lie within a rectification phase"
                f" ({p.starts_on} – {p.ends_on})"
            )
    return problems


def _duplicate_codes(field: str, items: Sequence[Any]) -> list[str]:
    first: dict[str, int] = {}
    problems = []
    for i, item in enumerate(items):
        if item.code in first:
            problems.append(
                f"{field}[{i}].code: duplicate code {item.code!r} (also {field}[{first[item.code]}])"
            )
        else:
            first[item.code] = i
    return problems


def _duplicates(at: str, values: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    problems = []
    for v in values:
        if v in seen:
            problems.append(f"{at}: {v!r} is listed twice")
        seen.add(v)
    return problems


def _check_coverage(rules: Sequence[CoverageRule]) -> list[str]:
    """Each institution must fall under one rule at most, or its share is ambiguous."""
    problems = []
    for i, rule in enumerate(rules):
        problems += _duplicates(f"coverage[{i}].institution_types", rule.institution_types)
        problems += _duplicates(f"coverage[{i}].levels", rule.levels or [])
        for j, earlier in enumerate(rules[:i]):
            types = [t for t in rule.institution_types if t in earlier.institution_types]
            levels_meet = (
                rule.levels is None
                or earlier.levels is None
                or bool(set(rule.levels) & set(earlier.levels))
            )
            ownership_meets = (
                rule.ownership is None
                or earlier.ownership is None
                or rule.ownership == earlier.ownership
            )
            if types and levels_meet and ownership_meets:
                problems.append(
                    f"coverage[{i}].institution_types: {', '.join(types)} already covered by"
                    f" coverage[{j}] ({earlier.code!r}); an institution may match one rule only"
                )
    return problems


def _check_indicator(at: str, ind: Indicator) -> list[str]:
    problems = []
    if ind.target_kind in VALUED_TARGETS and ind.target_value is None:
        problems.append(f"{at}.target_value: required when target_kind is {ind.target_kind!r}")
    if ind.target_kind in UNVALUED_TARGETS and ind.target_value is not None:
        problems.append(
            f"{at}.target_value: must be null when target_kind is {ind.target_kind!r}"
            " (put the wording in target_text)"
        )
    if ind.target_value is not None:
        top = UNIT_MAXIMUM.get(ind.unit)
        if ind.target_value < 0 or (top is not None and ind.target_value > top):
            bounds = f"0..{top}" if top is not None else "0 or more"
            problems.append(
                f"{at}.target_value: {ind.target_value:g} is outside {bounds} for unit {ind.unit!r}"
            )
    if ind.target_kind == "per_level_count" and not (
        ind.applies_to and any(a in LEVELS for a in ind.applies_to)
    ):
        problems.append(f"{at}.applies_to: per_level_count needs the levels it applies to")
    problems += _duplicates(f"{at}.applies_to", ind.applies_to or [])
    return problems
