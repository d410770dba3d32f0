"""The demo data files: regions, institutions and users, their format and loaders.

The files live in ``casework/demo/data/`` (``regions.yaml``, ``institutions.yaml``,
``users.yaml``), each a mapping with one list under the file's name. They are read and
reported on exactly like campaign definitions: every problem at once, each with its
location, in a :class:`~casework.campaigns.definition.DefinitionError`.

Cross-file references (an institution's region, a user's region or institution) are
checked when the referenced entries are passed in; :func:`load_demo_data` loads the
three files together and checks everything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from casework.campaigns.definition import (
    INSTITUTION_TYPES,
    LEVELS,
    OWNERSHIPS,
    DefinitionError,
    RegionCode,
    Strict,
    Text,
    read_yaml,
    validate,
)
from casework.institutions.models import REGION_LEVELS
from casework.users.models import LOCALES, REGION_ROLES, ROLES

DATA_DIR = Path(__file__).with_name("data")

# A region's parent sits strictly higher in this order.
_REGION_RANK = {"province": 0, "city": 1, "district": 2, "county": 2}

InstitutionCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9]*-[0-9]{3,}$")]
Username = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=64)]
Specialty = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]


class RegionEntry(Strict):
    code: RegionCode
    name: Text
    name_en: Text
    level: Literal[REGION_LEVELS]
    parent: RegionCode | None = None


class InstitutionEntry(Strict):
    code: InstitutionCode
    name: Text
    name_en: Text
    type: Literal[INSTITUTION_TYPES]
    level: Literal[LEVELS]
    ownership: Literal[OWNERSHIPS]
    region: RegionCode
    annual_visits: int | None = Field(default=None, ge=0)
    specialties: list[Specialty] | None = None


class UserEntry(Strict):
    """A demo login. The scope follows the role, as the database requires: institution
    users have an institution and no region; coordinators, inspectors and viewers a
    region and no institution; administrators no institution."""

    username: Username
    display_name: Text
    role: Literal[ROLES]
    region: RegionCode | None = None
    institution: InstitutionCode | None = None
    password: str = Field(min_length=12, repr=False)
    email: Text | None = None
    locale: Literal[LOCALES] = "zh_CN"


class RegionsFile(Strict):
    regions: list[RegionEntry] = Field(min_length=1)


class InstitutionsFile(Strict):
    institutions: list[InstitutionEntry] = Field(min_length=1)


class UsersFile(Strict):
    users: list[UserEntry] = Field(min_length=1)


@dataclass(frozen=True)
class DemoData:
    regions: list[RegionEntry]
    institutions: list[InstitutionEntry]
    users: list[UserEntry]


def load_regions(path: str | Path = DATA_DIR / "regions.yaml") -> list[RegionEntry]:
    """The regions in `path`, parents before children.

    Raises DefinitionError for format problems, duplicate codes, and parents that are
    unknown, listed after their child, or not of a higher level.
    """
    what = "regions file"
    regions = validate(RegionsFile, read_yaml(path, what), path, what).regions
    problems = _duplicates("regions", [r.code for r in regions], "code")
    seen: dict[str, RegionEntry] = {}
    for i, region in enumerate(regions):
        if region.parent is not None:
            parent = seen.get(region.parent)
            if parent is None:
                known = any(r.code == region.parent for r in regions)
                problems.append(
                    f"regions[{i}].parent: {region.parent!r} "
                    + (
                        "must be listed before its child"
                        if known
                        else "is not a region in this file"
                    )
                )
            elif _REGION_RANK[parent.level] >= _REGION_RANK[region.level]:
                problems.append(
                    f"regions[{i}].parent: a {region.level} cannot sit under the"
                    f" {parent.level} {parent.code!r}"
                )
        seen.setdefault(region.code, region)
    if problems:
        raise DefinitionError(path, problems, what)
    return regions


def load_institutions(
    path: str | Path = DATA_DIR / "institutions.yaml",
    regions: Sequence[RegionEntry] | None = None,
) -> list[InstitutionEntry]:
    """The institutions in `path`; their regions are checked against `regions` if given.

    Raises DefinitionError for format problems, duplicate codes or names, and unknown
    regions.
    """
    what = "institutions file"
    institutions = validate(InstitutionsFile, read_yaml(path, what), path, what).institutions
    problems = _duplicates("institutions", [i.code for i in institutions], "code")
    problems += _duplicates("institutions", [i.name for i in institutions], "name")
    if regions is not None:
        codes = {r.code for r in regions}
        for i, inst in enumerate(institutions):
            if inst.region not in codes:
                problems.append(f"institutions[{i}].region: {inst.region!r} is not a known region")
    if problems:
        raise DefinitionError(path, problems, what)
    return institutions


def load_users(
    path: str | Path = DATA_DIR / "users.yaml",
    regions: Sequence[RegionEntry] | None = None,
    institutions: Sequence[InstitutionEntry] | None = None,
) -> list[UserEntry]:
    """The users in `path`; references are checked against the entries given.

    Raises DefinitionError for format problems, duplicate usernames, a scope that does
    not fit the role, and unknown regions or institutions.
    """
    what = "users file"
    users = validate(UsersFile, read_yaml(path, what), path, what).users
    problems = _duplicates("users", [u.username for u in users], "username")
    region_codes = None if regions is None else {r.code for r in regions}
    institution_codes = None if institutions is None else {i.code for i in institutions}
    for i, user in enumerate(users):
        at = f"users[{i}]"
        problems += _scope_problems(at, user)
        if region_codes is not None and user.region is not None and user.region not in region_codes:
            problems.append(f"{at}.region: {user.region!r} is not a known region")
        if (
            institution_codes is not None
            and user.institution is not None
            and user.institution not in institution_codes
        ):
            problems.append(f"{at}.institution: {user.institution!r} is not a known institution")
    if problems:
        raise DefinitionError(path, problems, what)
    return users


def load_demo_data(directory: str | Path = DATA_DIR) -> DemoData:
    """The three demo files of `directory`, every reference between them checked."""
    directory = Path(directory)
    regions = load_regions(directory / "regions.yaml")
    institutions = load_institutions(directory / "institutions.yaml", regions)
    users = load_users(directory / "users.yaml", regions, institutions)
    return DemoData(regions=regions, institutions=institutions, users=users)


def _scope_problems(at: str, user: UserEntry) -> list[str]:
    problems = []
    if user.role == "institution":
        if user.institution is None:
            problems.append(f"{at}.institution: required for an institution user")
        if user.region is not None:
            problems.append(f"{at}.region: must be null for an institution user")
    else:
        if user.institution is not None:
            problems.append(f"{at}.institution: only institution users belong to an institution")
        if user.role in REGION_ROLES and user.region is None:
            problems.append(f"{at}.region: required for a {user.role}")
    return problems


def _duplicates(field: str, values: Sequence[str], key: str) -> list[str]:
    first: dict[str, int] = {}
    problems = []
    for i, value in enumerate(values):
        folded = value.casefold()
        if folded in first:
            problems.append(
                f"{field}[{i}].{key}: duplicate {key} {value!r} (also {field}[{first[folded]}])"
            )
        else:
            first[folded] = i
    return problems
