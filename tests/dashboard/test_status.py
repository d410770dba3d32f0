"""GET /status: no login, one query, a tiny plain-text answer (the benchmark's baseline)."""


def test_status_answers_without_login_in_one_query(client, count_queries):
    with count_queries() as statements:
        response = client.get("/status")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True).strip() == "ok"
    assert len(statements) == 1
