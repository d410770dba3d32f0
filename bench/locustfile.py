"""Locust users for scripts/bench --load: log in once as BENCH_USER (none if empty), then
request BENCH_PATH as fast as the server answers."""

import os
import re

from locust import HttpUser, constant, task

from bench.app import DEMO_PASSWORDS

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
USER = os.environ.get("BENCH_USER", "")
PATH = os.environ.get("BENCH_PATH", "/status")


class Visitor(HttpUser):
    wait_time = constant(0)

    def on_start(self):
        if USER:
            html = self.client.get("/login", name="login").text
            token = CSRF_RE.search(html).group(1)
            self.client.post("/login", name="login", allow_redirects=False, data={
                "username": USER, "password": DEMO_PASSWORDS[USER], "csrf_token": token})

    @task
    def page(self):
        self.client.get(PATH, name="page")
