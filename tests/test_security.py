"""Security across the whole app: headers, CSRF on every POST, login on every page,
escaping, error pages, and production settings."""

import re

import pytest
from flask import url_for

import config
from casework import create_app


def _rules(app, method):
    return [rule for rule in app.url_map.iter_rules()
            if method in rule.methods and rule.endpoint != "static"]


def _path(app, rule, **values):
    """The rule's URL with every path parameter 1 unless given."""
    with app.test_request_context():
        return url_for(rule.endpoint, **{**dict.fromkeys(rule.arguments, 1), **values})


def _csp(response):
    return {part.split()[0]: part.split()[1:]
            for part in response.headers["Content-Security-Policy"].split(";") if part.strip()}


# --- headers ----------------------------------------------------------------------

@pytest.mark.parametrize("path,role", [("/login", None), ("/dashboard", "coordinator"),
                                       ("/no-such-page", None)])
def test_security_headers(client, login, path, role):
    if role:
        login.as_(role)
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    directives = _csp(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer",
                                                   "strict-origin-when-cross-origin")


def test_pages_load_no_asset_from_elsewhere(client, login):
    login.as_("coordinator")
    html = client.get("/dashboard").get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    assert not [s for s in sources if re.match(r"(https?:)?//", s)]
    assert "<script>" not in html  # inline scripts would need 'unsafe-inline'


@pytest.mark.parametrize("path", ["/dashboard", "/cases/", "/campaigns/"])
def test_authenticated_pages_are_not_cached(client, login, path):
    login.as_("coordinator")
    response = client.get(path)
    assert response.status_code == 200
    assert "no-store" in response.headers.get("Cache-Control", "")


def test_session_cookie_is_httponly_and_samesite(client, users, login):
    login.as_("coordinator")
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"


# --- CSRF and login on every route ------------------------------------------------

def test_every_post_route_refuses_a_request_without_csrf_token(app, client, login, world, db):
    case = world.make_case(db)
    login.as_("coordinator")
    rules = _rules(app, "POST")
    assert {r.endpoint for r in rules} >= {"users.login", "users.logout", "cases.fire"}
    for rule in rules:
        # Otherwise valid where we can tell (a real case, a legal trigger): only the
        # missing token is wrong.
        values = {k: v for k, v in {"case_id": case.id, "trigger": "start_rectification"}
                  .items() if k in rule.arguments}
        path = _path(app, rule, **values)
        response = client.post(path, data={"version": 1, "comment": "理由",
                                           "locale": "en", "username": "coord"})
        assert response.status_code == 400, (path, response.status_code)
        assert "CSRF" in response.get_data(as_text=True), path
        forged = client.post(path, data={"csrf_token": "forged", "version": 1})
        assert forged.status_code == 400, path
    # Nothing happened: still logged in, the case still in its first state.
    assert client.get("/dashboard").status_code == 200
    assert 'data-state="mobilisation"' in client.get(f"/cases/{case.id}").get_data(as_text=True)


# Pages anyone may open: the login page, the public complaint form and tracking, and the
# status line for monitoring (it shows nothing but "ok").
PUBLIC_ENDPOINTS = {"users.login", "complaints.public_new", "complaints.public_track",
                    "dashboard.status"}


def test_every_page_requires_login(app, client, world, db):
    world.make_case(db)
    rules = [r for r in _rules(app, "GET") if r.endpoint not in PUBLIC_ENDPOINTS]
    assert {r.endpoint for r in rules} >= {"dashboard.index", "cases.index", "cases.detail",
                                           "campaigns.index", "users.index"}
    for rule in rules:
        path = _path(app, rule)
        response = client.get(path)
        assert response.status_code == 302, (path, response.status_code)
        final = client.get(path, follow_redirects=True)
        assert final.request.path == "/login", path
        assert final.status_code == 200


def test_login_page_is_public(client):
    assert client.get("/login").status_code == 200


def test_public_complaint_pages_need_no_login_and_show_no_staff_navigation(client, db):
    for path in ("/public/complaints/new", "/public/complaints/track"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "navbar" not in response.get_data(as_text=True)


# --- escaping ---------------------------------------------------------------------

def test_user_controlled_html_is_escaped(client, login, world, db):
    payload = "<script>alert(1)</script>"
    world.hospital.name = payload
    db.session.commit()
    case = world.make_case(db)
    login.as_("coordinator")
    for path in ("/cases/", f"/cases/{case.id}", "/dashboard"):
        html = client.get(path).get_data(as_text=True)
        assert payload not in html, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/cases/").get_data(as_text=True)


def test_search_text_is_escaped(client, login, world, db):
    login.as_("coordinator")
    html = client.get("/cases/", query_string={"q": '"><img src=x onerror=alert(1)>'}) \
        .get_data(as_text=True)
    assert "<img src=x onerror" not in html


# --- error pages ------------------------------------------------------------------

def test_404_page_is_chinese_by_default(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    message = re.search(r'data-testid="error-message">([^<]*)<', html).group(1)
    assert re.search(r"[\u4e00-\u9fff]", message), message


def test_404_page_in_english_when_chosen(client):
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      client.get("/login").get_data(as_text=True)).group(1)
    client.post("/language", data={"locale": "en", "csrf_token": token, "next": "/login"})
    html = client.get("/no-such-page").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "does not exist" in html


@pytest.mark.parametrize("path,headers", [
    ("/api/v1/no-such-thing", {}),
    ("/no-such-page", {"Accept": "application/json"}),
])
def test_json_errors_for_api_and_json_clients(client, path, headers):
    response = client.get(path, headers=headers)
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json()["error"]["code"] == "not_found"
    assert response.get_json()["error"]["message"]


def test_domain_errors_are_json_for_json_clients(client, login, world, db):
    login.as_("institution")
    far = world.make_case(db, institution=world.far_hospital)
    response = client.get(f"/cases/{far.id}", headers={"Accept": "application/json"})
    assert response.status_code == 404  # outside the jurisdiction: not even its existence
    assert response.get_json()["error"]["code"] == "not_found"
    html = client.get(f"/cases/{far.id}")
    assert html.status_code == 404 and html.mimetype == "text/html"


def test_error_pages_do_not_leak_internals(app, client, login, monkeypatch):
    from casework.dashboard import services

    def boom(actor):
        raise RuntimeError("secret-internal-detail")

    monkeypatch.setattr(services, "overview", boom)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    login.as_("coordinator")
    response = client.get("/dashboard")
    assert response.status_code == 500
    assert "secret-internal-detail" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


# --- production settings ----------------------------------------------------------

def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", None)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.get_config("production")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", "")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.get_config("production")


def test_production_reads_secret_key_from_the_environment(monkeypatch):
    import importlib

    monkeypatch.delenv("SECRET_KEY", raising=False)
    try:
        reloaded = importlib.reload(config)
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            reloaded.get_config("production")
        monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret")
        reloaded = importlib.reload(config)
        production = reloaded.get_config("production")
        assert production.SECRET_KEY == "a-long-random-production-secret"
        assert production.SESSION_COOKIE_SECURE is True
    finally:
        monkeypatch.undo()
        importlib.reload(config)


def test_unknown_environment_is_refused():
    with pytest.raises(RuntimeError, match="CASEWORK_ENV"):
        config.get_config("staging")


def test_production_warns_when_the_rate_limits_are_per_worker(monkeypatch, caplog):
    import logging

    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", "a-long-random-secret")
    monkeypatch.setattr(config.ProductionConfig, "PERSONAL_DATA_KEY", "set")
    monkeypatch.setattr(logging.getLogger("casework.config"), "disabled", False)
    caplog.set_level(logging.WARNING, logger="casework.config")
    monkeypatch.setattr(config.ProductionConfig, "RATELIMIT_STORAGE_URI", "memory://")
    config.get_config("production")
    assert "RATELIMIT_STORAGE_URI is memory://" in caplog.text
    caplog.clear()
    monkeypatch.setattr(config.ProductionConfig, "RATELIMIT_STORAGE_URI",
                        "redis://127.0.0.1:6379/0")
    config.get_config("production")
    assert "RATELIMIT_STORAGE_URI" not in caplog.text
