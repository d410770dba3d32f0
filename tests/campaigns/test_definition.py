"""Campaign definition files: the shipped ones load with the documents' values, and
malformed ones are refused with a message naming the file and each problem."""

import pickle
import textwrap
from datetime import date

import pytest

from casework.campaigns.definition import (
    CADENCE_KINDS,
    DEFINITIONS_DIR,
    FREQUENCIES,
    INSTITUTION_TYPES,
    LEVELS,
    PHASE_KINDS,
    TARGET_KINDS,
    DefinitionError,
    load_definition,
    load_definitions,
)
from casework.demo.data_files import load_regions

ZHONGWEI = DEFINITIONS_DIR / "zhongwei-2021-conduct.yaml"
YUBEI = DEFINITIONS_DIR / "yubei-2023-quality.yaml"
HOSPITALS = ["general_hospital", "tcm_hospital", "maternal_child_hospital", "specialist_hospital"]


@pytest.fixture(scope="module")
def zhongwei():
    return load_definition(ZHONGWEI)


@pytest.fixture(scope="module")
def yubei():
    return load_definition(YUBEI)


# --------------------------------------------------------------------- shipped files


def test_shipped_definitions_load_and_are_named_after_their_codes():
    codes = [d.code for d in load_definitions()]
    assert codes == ["yubei-2023-quality", "zhongwei-2021-conduct"]


def test_shipped_definitions_cover_known_regions():
    regions = {r.code for r in load_regions()}
    for d in load_definitions():
        assert d.region in regions


def test_zhongwei_header(zhongwei):
    assert zhongwei.title == "中卫市医疗卫生行业作风专项治理行动实施方案（2021—2022年）"
    assert zhongwei.region == "640500"
    assert zhongwei.document_number is None
    assert (zhongwei.starts_on, zhongwei.ends_on) == (date(2021, 4, 1), date(2022, 12, 31))


def test_zhongwei_phases(zhongwei):
    assert [(p.kind, p.name, p.starts_on, p.ends_on) for p in zhongwei.phases] == [
        ("mobilisation", "宣传动员阶段", date(2021, 4, 1), date(2021, 5, 31)),
        ("rectification", "集中治理阶段", date(2021, 5, 1), date(2022, 10, 31)),
        ("tackling", "攻坚阶段", date(2022, 1, 1), date(2022, 10, 31)),
        ("consolidation", "巩固提升阶段", date(2022, 12, 1), date(2022, 12, 31)),
    ]


def test_zhongwei_key_tasks(zhongwei):
    assert [t.title for t in zhongwei.key_tasks] == [
        "治理医疗服务中的生、冷、硬、顶、推现象",
        "整治医疗卫生机构及其从业人员利用执业之便谋取不正当利益、收取回扣的行为",
        "治理医疗服务中的违法违规行",  # sic: the plan's own heading
        "治理医疗纠纷、投诉频发、多发问题",
    ]


def test_zhongwei_coverage(zhongwei):
    rules = [
        (r.institution_types, r.ownership, r.levels, r.target_percent) for r in zhongwei.coverage
    ]
    assert rules == [
        (HOSPITALS, None, None, 100),
        (
            [
                "community_health_centre",
                "community_health_station",
                "township_health_centre",
                "outpatient_department",
                "clinic",
            ],
            None,
            None,
            50,
        ),
    ]
    # Every institution type falls under exactly one rule.
    covered = [t for r in zhongwei.coverage for t in r.institution_types]
    assert sorted(covered) == sorted(INSTITUTION_TYPES)


def test_zhongwei_cadences(zhongwei):
    assert [(c.kind, c.frequency, c.due_day, c.levels) for c in zhongwei.cadences] == [
        ("progress_report", "quarterly", None, None),
        ("bulletin", "half_yearly", None, ["tertiary", "secondary"]),
        ("supervision_report", "monthly", 30, None),
    ]
    assert zhongwei.indicators == []


def test_yubei_header_phases_and_cadences(yubei):
    assert yubei.title == "重庆市渝北区全面提升医疗质量行动实施方案（2023-2025年）"
    assert yubei.issuing_body == "重庆市渝北区卫生健康委员会"
    assert yubei.document_number == "渝北卫健〔2023〕396号"
    assert yubei.region == "500112"
    assert [(p.kind, p.starts_on, p.ends_on) for p in yubei.phases] == [
        ("rectification", date(2023, 11, 1), date(2025, 6, 30)),
        ("evaluation", date(2025, 7, 1), date(2025, 8, 31)),
    ]
    assert [(c.kind, c.frequency, c.due_day) for c in yubei.cadences] == [
        ("assessment", "half_yearly", None),
        ("bulletin", "quarterly", None),
    ]


def test_yubei_scope_is_secondary_and_above_public_and_private(yubei):
    (rule,) = yubei.coverage
    assert rule.label == "全区二级及以上医疗机构（含民营）"
    assert sorted(rule.institution_types) == sorted(INSTITUTION_TYPES)
    assert rule.levels == ["tertiary", "secondary"]
    assert (rule.ownership, rule.target_percent) == (None, 100)


def test_yubei_key_tasks_are_the_26_numbered_tasks(yubei):
    assert len(yubei.key_tasks) == 26
    assert yubei.key_tasks[0].title == "健全院科医疗质量管理组织体系"
    assert yubei.key_tasks[-1].title == "强化患者安全管理"


def test_yubei_has_the_37_annex_indicators(yubei):
    codes = [i.code for i in yubei.indicators]
    assert len(codes) == 37
    assert len(set(codes)) == 37
    assert codes == [f"ind-{n:02d}" for n in range(1, 38)]
    dimensions = [i.dimension for i in yubei.indicators]
    assert [dimensions.count(d) for d in dict.fromkeys(dimensions)] == [2, 7, 14, 8, 6]


@pytest.mark.parametrize(
    ("number", "name", "unit", "kind", "value", "text", "lead_unit"),
    [
        (5, "院内心脏骤停复苏成功率", "%", "at_least", 35, "力争达到35%", "区急诊医学质控中心"),
        (
            6,
            "急性ST段抬高型心肌梗死再灌注治疗率",
            "%",
            "at_least",
            80,
            "≥80%",
            "区胸痛中心（区人民医院）",
        ),
        (
            7,
            "急性脑梗死再灌注治疗率",
            "%",
            "at_least",
            45,
            "≥45%",
            "区脑卒中质控中心（重医附三院）",
        ),
        (
            15,
            "多学科（MDT）门诊",
            "count",
            "per_level_count",
            None,
            "二级医院≥1个，三级医院≥3个",
            "区卫生健康委",
        ),
        (24, "医院CMI值", "ratio", "at_least", 0.9, "三级公立院≥0.90", "参考公立医院绩效考核成绩"),
        (26, "非计划重返手术室再手术率", "‰", "at_most", 1.8, "≤1.8‰", "区卫生健康委"),
        (27, "住院患者手术后获得性指标发生率", "‰", "at_most", 7.5, "≤7.5‰", "区卫生健康委"),
        (
            31,
            "患者院内Ⅱ期以上压力性损伤发生率",
            "%",
            "decrease",
            None,
            "逐步降低",
            "区护理质控中心",
        ),
        (36, "出院患者病历归档完整率", "%", "at_least", 98, "≥98%", "区病案质控中心"),
        (37, "全国百佳病案入选情况", "count", "none", None, "/", "区病案质控中心"),
    ],
)
def test_yubei_indicator_rows(yubei, number, name, unit, kind, value, text, lead_unit):
    ind = yubei.indicators[number - 1]
    assert (
        ind.name,
        ind.unit,
        ind.target_kind,
        ind.target_value,
        ind.target_text,
        ind.lead_unit,
    ) == (
        name,
        unit,
        kind,
        value,
        text,
        lead_unit,
    )


def test_identifiers_agree_with_the_models():
    models = pytest.importorskip("casework.campaigns.models")
    institutions = pytest.importorskip("casework.institutions.models")
    assert models.PHASE_KINDS == PHASE_KINDS
    assert models.CADENCE_KINDS == CADENCE_KINDS
    assert models.FREQUENCIES == FREQUENCIES
    assert models.TARGET_KINDS == TARGET_KINDS
    assert institutions.INSTITUTION_TYPES == INSTITUTION_TYPES
    assert institutions.INSTITUTION_LEVELS == LEVELS


# --------------------------------------------------------------------- malformed files

VALID = textwrap.dedent(
    """\
    code: test-campaign
    title: 测试行动
    title_en: Test campaign
    issuing_body: 测试卫生健康委员会
    issuing_body_en: Test Health Commission
    document_number: null
    region: "640500"
    starts_on: 2021-04-01
    ends_on: 2022-12-31
    summary: 测试
    phases:
      - kind: mobilisation
        name: 宣传动员阶段
        name_en: Mobilisation
        starts_on: 2021-04-01
        ends_on: 2021-05-31
        description: 动员
      - kind: rectification
        name: 集中治理阶段
        name_en: Rectification
        starts_on: 2021-06-01
        ends_on: 2022-10-31
        description: 治理
      - kind: consolidation
        name: 巩固提升阶段
        name_en: Consolidation
        starts_on: 2022-12-01
        ends_on: 2022-12-31
        description: 巩固
    key_tasks:
      - {code: task-a, title: 任务一, title_en: Task A, description: 说明}
      - {code: task-b, title: 任务二, title_en: Task B, description: 说明}
    coverage:
      - code: hospitals
        label: 医院
        label_en: Hospitals
        institution_types: [general_hospital, tcm_hospital]
        ownership: null
        target_percent: 100
      - code: clinics
        label: 诊所
        label_en: Clinics
        institution_types: [clinic]
        ownership: private
        target_percent: 50
    cadences:
      - kind: supervision_report
        frequency: monthly
        due_day: 30
        levels: null
        description: 月报
        description_en: Monthly report
    indicators:
      - code: ind-01
        dimension: 结果质量
        name: 再手术率
        unit: "‰"
        target_kind: at_most
        target_value: 1.8
        target_text: "≤1.8‰"
        lead_unit: 区卫生健康委
        applies_to: null
      - code: ind-02
        dimension: 结果质量
        name: 病死率
        unit: "%"
        target_kind: decrease
        target_value: null
        target_text: 逐步降低
        lead_unit: null
        applies_to: [tertiary]
    """
)


def _write(tmp_path, text, name="campaign.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_valid_sample_loads(tmp_path):
    definition = load_definition(_write(tmp_path, VALID))
    assert definition.code == "test-campaign"
    assert definition.cadences[0].due_day == 30


def _edit(old, new, count=1):
    assert VALID.count(old) >= count, old
    return VALID.replace(old, new, count)


MALFORMED = [
    ("yaml syntax", _edit("title: 测试行动\n", "title: [测试行动\n"), "YAML syntax error"),
    (
        "yaml duplicate key",
        _edit("title_en: Test campaign\n", "title_en: A\ntitle_en: B\n"),
        "duplicate key 'title_en'",
    ),
    ("missing field", _edit("summary: 测试\n", ""), "summary: missing required field"),
    (
        "unknown field",
        _edit("summary: 测试\n", "summary: 测试\ncolour: red\n"),
        "colour: unknown field",
    ),
    (
        "unknown nested field",
        _edit("    description: 动员\n", "    description: 动员\n    owner: me\n"),
        "phases[0].owner: unknown field",
    ),
    (
        "wrong type",
        _edit("target_percent: 50", "target_percent: fifty"),
        "coverage[1].target_percent: expected a valid integer",
    ),
    (
        "float percent",
        _edit("target_percent: 50", "target_percent: 50.5"),
        "coverage[1].target_percent: expected a valid integer",
    ),
    (
        "unquoted region",
        _edit('region: "640500"', "region: 640500"),
        "region: expected text, got the number 640500",
    ),
    (
        "bad region code",
        _edit('region: "640500"', 'region: "6405"'),
        "region: '6405' is not valid here",
    ),
    (
        "bad date",
        _edit("ends_on: 2022-12-31\n", "ends_on: 2022-02-30\n"),
        "ends_on: not a valid date: '2022-02-30'",
    ),
    (
        "date as text",
        _edit("starts_on: 2021-04-01\n", "starts_on: April 2021\n"),
        "starts_on: expected a date written YYYY-MM-DD",
    ),
    (
        "phase ends before it starts",
        _edit("ends_on: 2021-05-31", "ends_on: 2021-03-31"),
        "phases[0].ends_on: ends before starts_on (2021-03-31 < 2021-04-01)",
    ),
    (
        "campaign ends before it starts",
        _edit("ends_on: 2022-12-31\nsummary", "ends_on: 2020-12-31\nsummary"),
        "ends_on: ends before starts_on (2020-12-31 < 2021-04-01)",
    ),
    (
        "phase before the campaign",
        _edit("    starts_on: 2021-04-01\n", "    starts_on: 2021-03-01\n"),
        "phases[0].starts_on: before the campaign starts (2021-03-01 < 2021-04-01)",
    ),
    (
        "phase after the campaign",
        _edit(
            "starts_on: 2022-12-01\n    ends_on: 2022-12-31",
            "starts_on: 2022-12-01\n    ends_on: 2023-01-31",
        ),
        "phases[2].ends_on: after the campaign ends (2023-01-31 > 2022-12-31)",
    ),
    (
        "phases out of order",
        _edit(
            "starts_on: 2022-12-01\n    ends_on: 2022-12-31",
            "starts_on: 2021-04-15\n    ends_on: 2021-04-30",
        ),
        "phases[2].starts_on: phases must be listed in order",
    ),
    (
        "tackling outside rectification",
        _edit("kind: consolidation", "kind: tackling"),
        "phases[2]: a tackling phase must lie within a rectification phase",
    ),
    (
        "unknown phase kind",
        _edit("kind: mobilisation", "kind: launch"),
        "phases[0].kind: unknown value 'launch'",
    ),
    (
        "no phases",
        VALID.split("phases:")[0] + "phases: []\nkey_tasks:" + VALID.split("key_tasks:")[1],
        "phases: must have at least 1 item(s)",
    ),
    ("empty name", _edit("name: 宣传动员阶段", 'name: "  "'), "phases[0].name: must not be empty"),
    (
        "duplicate key task",
        _edit("code: task-b", "code: task-a"),
        "key_tasks[1].code: duplicate code 'task-a' (also key_tasks[0])",
    ),
    (
        "bad key task code",
        _edit("code: task-b", "code: Task B"),
        "key_tasks[1].code: 'Task B' is not valid here",
    ),
    (
        "duplicate coverage code",
        _edit("code: clinics", "code: hospitals"),
        "coverage[1].code: duplicate code 'hospitals'",
    ),
    (
        "overlapping coverage",
        _edit("institution_types: [clinic]", "institution_types: [clinic, tcm_hospital]"),
        "coverage[1].institution_types: tcm_hospital already covered by coverage[0]",
    ),
    (
        "duplicate indicator",
        _edit("code: ind-02", "code: ind-01"),
        "indicators[1].code: duplicate code 'ind-01'",
    ),
    (
        "percent above 100",
        _edit("target_percent: 50", "target_percent: 101"),
        "coverage[1].target_percent: must be less than or equal to 100",
    ),
    (
        "percent below 0",
        _edit("target_percent: 50", "target_percent: -1"),
        "coverage[1].target_percent: must be greater than or equal to 0",
    ),
    (
        "unknown institution type",
        _edit("[general_hospital, tcm_hospital]", "[general_hospital, pharmacy]"),
        "coverage[0].institution_types[1]: unknown value 'pharmacy'",
    ),
    (
        "unknown ownership",
        _edit("ownership: private", "ownership: mixed"),
        "coverage[1].ownership: unknown value 'mixed'",
    ),
    (
        "unknown cadence kind",
        _edit("kind: supervision_report", "kind: newsletter"),
        "cadences[0].kind: unknown value 'newsletter'",
    ),
    (
        "unknown frequency",
        _edit("frequency: monthly", "frequency: weekly"),
        "cadences[0].frequency: unknown value 'weekly'",
    ),
    (
        "due day out of range",
        _edit("due_day: 30", "due_day: 32"),
        "cadences[0].due_day: must be less than or equal to 31",
    ),
    (
        "unknown level",
        _edit("levels: null", "levels: [tertiary, level2]"),
        "cadences[0].levels[1]: unknown value 'level2'",
    ),
    (
        "unknown target kind",
        _edit("target_kind: at_most", "target_kind: below"),
        "indicators[0].target_kind: unknown value 'below'",
    ),
    (
        "unknown unit",
        _edit('unit: "‰"', "unit: hours"),
        "indicators[0].unit: unknown value 'hours'",
    ),
    (
        "missing target value",
        _edit("target_value: 1.8", "target_value: null"),
        "indicators[0].target_value: required when target_kind is 'at_most'",
    ),
    (
        "value with a direction",
        _edit("target_value: null", "target_value: 3"),
        "indicators[1].target_value: must be null when target_kind is 'decrease'",
    ),
    (
        "percent target above 100",
        _edit('unit: "‰"', 'unit: "%"').replace("target_value: 1.8", "target_value: 180"),
        "indicators[0].target_value: 180 is outside 0..100",
    ),
    (
        "unknown applies_to",
        _edit("applies_to: [tertiary]", "applies_to: [hospital]"),
        "indicators[1].applies_to[0]: unknown value 'hospital'",
    ),
    ("top level is a list", "- code: x\n", "(top level): expected a mapping of fields, got a list"),
    ("empty file", "", "the file is empty"),
]


@pytest.mark.parametrize(
    ("text", "expected"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_malformed_definition_is_refused(tmp_path, text, expected):
    path = _write(tmp_path, text)
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    message = str(info.value)
    assert message.startswith(f"{path}: invalid campaign definition")
    assert any(expected in p for p in info.value.problems), message
    assert expected in message


def test_every_problem_is_reported_at_once(tmp_path):
    text = (
        _edit("summary: 测试\n", "colour: red\n")
        .replace("kind: mobilisation", "kind: launch")
        .replace("target_percent: 50", "target_percent: 150")
    )
    with pytest.raises(DefinitionError) as info:
        load_definition(_write(tmp_path, text))
    problems = info.value.problems
    assert len(problems) == 4
    for expected in (
        "summary: missing",
        "colour: unknown field",
        "phases[0].kind",
        "coverage[1].target_percent",
    ):
        assert any(p.startswith(expected) for p in problems), problems
    lines = str(info.value).splitlines()
    assert lines[0].endswith("invalid campaign definition (4 problems):")
    assert all(line.startswith("  - ") for line in lines[1:])


def test_semantic_problems_are_all_reported(tmp_path):
    text = _edit("ends_on: 2021-05-31", "ends_on: 2021-03-31").replace(
        "code: task-b", "code: task-a"
    )
    with pytest.raises(DefinitionError) as info:
        load_definition(_write(tmp_path, text))
    assert info.value.problems == [
        "phases[0].ends_on: ends before starts_on (2021-03-31 < 2021-04-01)",
        "key_tasks[1].code: duplicate code 'task-a' (also key_tasks[0])",
    ]


def test_missing_file_is_a_definition_error(tmp_path):
    with pytest.raises(DefinitionError, match="cannot read the file"):
        load_definition(tmp_path / "absent.yaml")


def test_file_must_be_named_after_its_code(tmp_path):
    _write(tmp_path, VALID, name="other-name.yaml")
    with pytest.raises(DefinitionError, match="does not match the file name 'other-name.yaml'"):
        load_definitions(tmp_path)


def test_definition_error_survives_pickling(tmp_path):
    error = DefinitionError(tmp_path / "x.yaml", ["a: b"])
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.path, copy.problems, str(copy)) == (error.path, error.problems, str(error))
