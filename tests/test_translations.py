"""The zh_CN catalog covers every source string, keeps its placeholders, and is used.

English is the source language; zh_CN is the default UI language. The extraction here
uses babel.cfg and the keywords of scripts/i18n-update, so a new `_()` / `_l()` /
template `_()` string without a Chinese translation fails this test with its msgid:
run scripts/i18n-update, translate the new entries, run it again.
"""

import gettext
import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from factories import PASSWORD, csrf_token

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "casework" / "translations"
# zh_Hans_CN, not zh_CN: what Flask-Babel looks for, as Babel parses "zh_CN" to
# zh_Hans_CN (see scripts/i18n-update).
ZH_PO = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
ZH_MO = ZH_PO.with_suffix(".mo")

# Babel's defaults plus the lazy variants: the same -k options as scripts/i18n-update.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2),
            "lazy_pgettext": ((1, "c"), 2), "_p": ((1, "c"), 2),
            "guard": None, "Reason": None}

FIX = "run scripts/i18n-update and translate the listed entries in " \
      "casework/translations/zh_Hans_CN/LC_MESSAGES/messages.po"


@pytest.fixture(scope="module")
def source_messages():
    """{(msgid, context): "path:line"} for every translatable string in the sources."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, "babel.cfg")
    found = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS,
    ):
        # A plural message is a tuple (singular, plural); the catalog is keyed by the first.
        msgid = message[0] if isinstance(message, (list, tuple)) else message
        if msgid:
            found.setdefault((msgid, context), f"{filename}:{lineno}")
    assert found, "extraction found no messages: is babel.cfg missing or wrong?"
    return found


@pytest.fixture(scope="module")
def zh_catalog():
    assert ZH_PO.is_file(), f"{ZH_PO.relative_to(ROOT)} is missing: {FIX}"
    with open(ZH_PO, "rb") as po:
        return read_po(po)


def _strings(message):
    """All msgstr forms of a catalog message (one for singular, several for plural)."""
    if isinstance(message.string, (list, tuple)):
        return list(message.string)
    return [message.string]


def test_every_source_string_is_translated(source_messages, zh_catalog):
    problems = []
    for (msgid, context), where in sorted(source_messages.items(), key=lambda kv: (str(kv[0][0]), kv[0][1] or "")):
        entry = zh_catalog.get(msgid, context=context)
        if entry is None:
            problems.append(f"missing:      {msgid!r}  ({where})")
        elif entry.fuzzy:
            problems.append(f"fuzzy:        {msgid!r}  ({where})")
        elif not all(s.strip() for s in _strings(entry)):
            problems.append(f"untranslated: {msgid!r}  ({where})")
    assert not problems, (
        f"{len(problems)} source string(s) lack a zh_CN translation ({FIX}):\n"
        + "\n".join(problems)
    )


def test_catalog_has_no_fuzzy_or_empty_entries(zh_catalog):
    assert not zh_catalog.fuzzy, "the catalog header is marked fuzzy"
    bad = [m.id for m in zh_catalog if m.id and (m.fuzzy or not all(_strings(m)))]
    assert not bad, f"fuzzy or empty entries ({FIX}): {bad}"


# printf-style conversions as Python's % operator reads them, and "%%".
PLACEHOLDER = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0 +\-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")


def _placeholders(text: str) -> tuple[Counter, str]:
    """The placeholders of `text` (without %%) and what is left after removing them all."""
    found = Counter(m.group(0) for m in PLACEHOLDER.finditer(text) if m.group(0) != "%%")
    return found, PLACEHOLDER.sub("", text)


def test_placeholders_match(zh_catalog):
    problems = []
    for message in zh_catalog:
        if not message.id:
            continue
        ids = list(message.id) if isinstance(message.id, (list, tuple)) else [message.id]
        expected, id_rest = _placeholders(ids[-1])
        for text in _strings(message):
            if not text:
                continue
            got, rest = _placeholders(text)
            if got != expected:
                problems.append(f"{message.id!r}: expects {sorted(expected.elements())}, "
                                f"{text!r} has {sorted(got.elements())}")
            # A lone % where the English has none breaks formatting (templates always
            # format, as Jinja's newstyle gettext does): write %% as the English does.
            if "%" in rest and "%" not in id_rest:
                problems.append(f"{message.id!r}: stray '%' in {text!r}")
    assert not problems, "placeholder mismatches:\n" + "\n".join(problems)


def test_stale_object_message_says_changed_by_someone_else(zh_catalog):
    entry = zh_catalog.get(
        "This record was changed by someone else after you opened it. Nothing was saved: "
        "reload the page to see the current state and try again.")
    assert entry is not None and "已被他人修改" in entry.string


def test_compiled_catalog_matches_the_po(zh_catalog):
    """The app reads the .mo: a stale one would show old or English text."""
    assert ZH_MO.is_file(), f"{ZH_MO.relative_to(ROOT)} is missing: run scripts/i18n-update"
    with open(ZH_MO, "rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    stale = [m.id for m in zh_catalog
             if m.id and isinstance(m.id, str) and not m.context
             and compiled.gettext(m.id) != m.string]
    assert not stale, f"the .mo is older than the .po (run scripts/i18n-update): {stale[:10]}"


# --- in the app ---------------------------------------------------------------------------


def _dashboard(client) -> str:
    response = client.get("/dashboard")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_ui_is_chinese_by_default_and_english_on_request_and_the_choice_persists(
        client, login, users, db):
    from casework.users.models import User

    coordinator = login.as_("coordinator")

    page = _dashboard(client)
    assert '<html lang="zh-CN">' in page
    assert "退出登录" in page and "Log out" not in page
    assert "督导协调员工作台" in page

    response = client.post("/language", data={
        "locale": "en", "next": "/dashboard", "csrf_token": csrf_token(client, "/dashboard"),
    })
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard")

    page = _dashboard(client)
    assert '<html lang="en">' in page
    assert "Log out" in page and "退出登录" not in page
    assert "Coordinator dashboard" in page
    db.session.expire_all()
    assert db.session.get(User, coordinator.id).locale == "en"

    # Logging out clears the session: the login page is in the default language again...
    login.logout()
    assert "登录" in client.get("/login").get_data(as_text=True)
    # ...and logging back in restores the user's own choice, saved on the account.
    response = client.post("/login", data={
        "username": coordinator.username, "password": PASSWORD,
        "csrf_token": csrf_token(client),
    })
    assert response.status_code == 302
    page = _dashboard(client)
    assert "Log out" in page and "退出登录" not in page


def test_choice_is_per_user(client, login, users, db):
    login.as_("coordinator")
    client.post("/language", data={
        "locale": "en", "next": "/dashboard", "csrf_token": csrf_token(client, "/dashboard"),
    })
    assert "Log out" in _dashboard(client)
    login.logout()

    login.as_("inspector")
    page = _dashboard(client)
    assert "退出登录" in page and "监督员工作台" in page


def test_unknown_language_is_refused(client, login, db):
    login.as_("coordinator")
    response = client.post("/language", data={
        "locale": "fr", "next": "/dashboard", "csrf_token": csrf_token(client, "/dashboard"),
    }, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "不支持该语言。" in page and "退出登录" in page
