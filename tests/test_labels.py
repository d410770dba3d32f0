"""Every identifier people read has one display name, in casework/labels.py, with a
Chinese translation and an English text.

The identifiers (the stored codes) live beside their model or machine; an identifier set
of a model that is not listed below, labelled or not, fails the completeness test, so a
new set is either given its labels or said to be never shown.
"""

import ast
from pathlib import Path

import pytest
from flask_babel import force_locale

import casework
from casework import labels
from casework.campaigns import models as campaigns
from casework.complaints import models as complaints
from casework.disputes import models as disputes
from casework.inspections import models as inspections
from casework.institutions import models as institutions
from casework.jobs.registry import JOBS
from casework.oversight import models as oversight
from casework.points import models as points
from casework.queue import models as queue
from casework.users import models as users
from workflows import complaint as complaint_workflow
from workflows import registry

# (name, the codes, their labels)
LABELLED = [
    *[(f"{name} states", registry.definition(name).STATES, labels.STATES[name])
      for name in registry.all_names()],
    *[(f"{name} triggers", tuple({t["trigger"] for t in registry.definition(name).TRANSITIONS}),
       labels.TRIGGERS[name]) for name in registry.all_names()],
    ("dispute statuses", disputes.DISPUTE_STATUSES, labels.STATES["dispute"]),
    ("roles", users.ROLES, labels.ROLES),
    ("institution types", institutions.INSTITUTION_TYPES, labels.INSTITUTION_TYPES),
    ("institution levels", institutions.INSTITUTION_LEVELS, labels.LEVELS),
    ("ownerships", institutions.OWNERSHIPS, labels.OWNERSHIPS),
    ("phase kinds", campaigns.PHASE_KINDS, labels.PHASE_KINDS),
    ("cadence kinds", campaigns.CADENCE_KINDS, labels.CADENCE_KINDS),
    ("frequencies", campaigns.FREQUENCIES, labels.FREQUENCIES),
    ("queue kinds", queue.QUEUE_KINDS, labels.QUEUE_KINDS),
    ("accountability measures", oversight.ACCOUNTABILITY_MEASURES,
     labels.ACCOUNTABILITY_MEASURES),
    ("points sources", points.POINTS_SOURCES, labels.POINTS_SOURCES),
    ("severities", inspections.SEVERITIES, labels.SEVERITIES),
    ("complaint channels", complaints.CHANNELS, labels.COMPLAINT_CHANNELS),
    ("complaint categories", complaints.CATEGORIES, labels.COMPLAINT_CATEGORIES),
    ("complaint outcomes", complaint_workflow.OUTCOMES, labels.COMPLAINT_OUTCOMES),
    ("transfer departments", complaint_workflow.TRANSFER_DEPARTMENTS,
     labels.TRANSFER_DEPARTMENTS),
    ("dispute types", disputes.DISPUTE_TYPES, labels.DISPUTE_TYPES),
    ("dispute routes", disputes.DISPUTE_ROUTES, labels.DISPUTE_ROUTES),
]

# Model identifier sets given labels above, and those never shown as words (or shown
# through another set: HOSPITAL_TYPES are institution types, HANDLED_STATES complaint
# states), by module and name.
MODEL_SETS = {
    "campaigns": {"PHASE_KINDS", "CADENCE_KINDS", "FREQUENCIES",
                  "TARGET_KINDS", "UNITS"},          # data-file fields, shown as given
    "complaints": {"CHANNELS", "CATEGORIES", "HANDLED_STATES", "LIST_RANK",
                   "ACCESS_PURPOSES"},               # the access log's purpose: internal
    "disputes": {"DISPUTE_TYPES", "DISPUTE_ROUTES", "DISPUTE_STATUSES"},
    "history": {"OBJECT_TYPES"},                     # internal
    "inspections": {"SEVERITIES"},
    "institutions": {"REGION_LEVELS",                # regions are shown by name
                     "INSTITUTION_TYPES", "HOSPITAL_TYPES", "INSTITUTION_LEVELS",
                     "OWNERSHIPS"},
    "jobs": {"OUTCOMES"},                            # worded in templates/jobs/index.html
    "notifications": {"EMAIL_STATUSES"},             # internal
    "orders": {"EXTENSION_STATUSES", "TODO_ORDER", "LIST_RANK", "OPEN_RANK_LIMIT"},
    "oversight": {"ACCOUNTABILITY_MEASURES"},
    "points": {"POINTS_SOURCES", "POINTS_SUBJECTS"},  # subjects: shown as the named one
    "queue": {"QUEUE_KINDS"},
    "users": {"ROLES", "REGION_ROLES", "LOCALES"},   # locales: shown in their own language
    "workdays": {"SOURCES"},                         # internal
}


def _module_constants(path: Path) -> set[str]:
    return {node.targets[0].id for node in ast.parse(path.read_text(encoding="utf-8")).body
            if isinstance(node, ast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name) and node.targets[0].id.isupper()
            and not node.targets[0].id.startswith("_")}


def test_every_model_identifier_set_is_accounted_for():
    root = Path(casework.__file__).parent
    found = {path.parent.name: names for path in sorted(root.glob("*/models.py"))
             if (names := _module_constants(path))}
    assert found == MODEL_SETS


@pytest.mark.parametrize(("name", "codes", "table"), LABELLED, ids=[n for n, _, _ in LABELLED])
def test_every_code_has_a_label(name, codes, table):
    assert set(codes) <= set(table), f"{name}: no label for {sorted(set(codes) - set(table))}"


def test_every_job_has_a_title_and_a_description():
    assert set(JOBS) <= set(labels.JOBS)
    assert all(len(pair) == 2 for pair in labels.JOBS.values())


def _all_labels():
    for name, _, table in LABELLED:
        for code, label in table.items():
            yield f"{name}: {code}", label
    for job, (title, description) in labels.JOBS.items():
        yield f"job {job}: title", title
        yield f"job {job}: description", description


def test_every_label_has_an_english_text_and_a_chinese_translation(app):
    missing = []
    with app.test_request_context():
        for where, label in _all_labels():
            with force_locale("en"):
                english = str(label)
            with force_locale("zh_CN"):
                chinese = str(label)
            if not english.strip() or chinese == english:
                missing.append(f"{where}: {english!r} -> {chinese!r}")
    assert missing == []
