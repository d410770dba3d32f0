"""The machine tests are pure: registry, guards, definitions and diagrams need no
application and no database. A test here that asks for one (directly or through a
fixture) fails at setup instead of quietly emptying every table."""

import pytest

DATABASE_FIXTURES = {"app", "db", "world", "users", "client", "runner", "login"}


def pytest_runtest_setup(item):
    wanted = DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
    if wanted:
        pytest.fail(f"{item.nodeid}: a machine test needs no database "
                    f"(asks for {', '.join(sorted(wanted))})", pytrace=False)
