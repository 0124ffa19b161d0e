"""``LoginFailureReport`` and the login route: wrong passwords reach AstrBot's log as a
summary per interval, never a line per try; attempts are counted before they are checked."""

from __future__ import annotations

import asyncio
import logging

import httpx

from harness.panel_probes import login_with
from proactive_chat.core.plugin_log import PLUGIN_LOGGER_NAME
from proactive_chat.web.auth.credentials import hash_password
from proactive_chat.web.auth.login_report import LoginFailureReport
from proactive_chat.web.auth.rate_limit import LoginRateLimiter

from .test_app_guard import PASSWORD, build, client_for


def lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == PLUGIN_LOGGER_NAME]


async def test_a_flood_of_failures_is_one_line_per_interval(caplog):
    caplog.set_level(logging.INFO, logger=PLUGIN_LOGGER_NAME)
    report = LoginFailureReport("http://127.0.0.1:4100/", interval=0.2)
    report.failed("10.0.0.1")
    assert len(lines(caplog)) == 1 and "failed from 10.0.0.1" in lines(caplog)[0]
    for n in range(500):
        report.failed(f"10.0.{n % 7}.1")
        report.refused(f"10.0.{n % 7}.1", ceiling=n > 100)
    told = lines(caplog)
    assert len(told) == 2 and "log in from this machine" in told[1]
    assert "http://127.0.0.1:4100/" in told[1]
    await asyncio.sleep(0.3)
    told = lines(caplog)
    assert len(told) == 3
    assert "500 wrong password(s) from 7 address(es)" in told[2]
    assert "500 attempt(s) refused" in told[2]
    report.failed("10.0.0.1")  # still going on: summarised, not told
    await asyncio.sleep(0.3)
    assert len(lines(caplog)) == 4 and "1 wrong password(s)" in lines(caplog)[3]
    await asyncio.sleep(0.3)  # a quiet interval: nothing to say
    assert len(lines(caplog)) == 4
    report.failed("10.0.0.2")
    assert "failed from 10.0.0.2" in lines(caplog)[4]
    report.flush()


async def test_wrong_passwords_write_one_line_not_one_each(caplog):
    caplog.set_level(logging.INFO, logger=PLUGIN_LOGGER_NAME)
    app, deps = build()
    deps.rate_limiter = LoginRateLimiter(max_failures=1000, max_total_failures=1000)
    async with client_for(app) as client:
        for _ in range(50):
            response = await client.post("/api/login", json={"password": "wrong"})
            assert response.status_code == 401
    assert len([line for line in lines(caplog) if "ogin" in line]) == 1
    deps.login_report.flush()
    assert "49 wrong password(s)" in lines(caplog)[-1]
    assert "wrong" not in " ".join(lines(caplog)).replace("wrong password", "")


async def test_concurrent_attempts_are_counted_before_they_are_checked():
    # A generated password: every check is a slow scrypt, so all attempts overlap.
    app, deps = build(password="", hashed=hash_password("Generated-Pw-1"))
    async with client_for(app) as client:
        answers = await asyncio.gather(
            *(client.post("/api/login", json={"password": f"guess-{n}"}) for n in range(20))
        )
    statuses = sorted(response.status_code for response in answers)
    assert statuses.count(401) + statuses.count(429) == 20
    assert statuses.count(401) <= 5, statuses
    deps.login_report.flush()


async def test_every_loopback_address_is_one_client():
    app, deps = build()
    for n in range(5):
        transport = httpx.ASGITransport(app=app, client=(f"127.0.0.{n + 1}", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:4100") as c:
            response = await c.post("/api/login", json={"password": "wrong"})
            assert response.status_code == (429 if n == 4 else 401)
    transport = httpx.ASGITransport(app=app, client=("127.9.9.9", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:4100") as c:
        response = await c.post("/api/login", json={"password": PASSWORD})
        assert response.status_code == 429
    deps.login_report.flush()


async def test_the_owner_gets_in_from_the_machine_itself_past_the_ceiling():
    app, deps = build()
    deps.rate_limiter = LoginRateLimiter(max_total_failures=10)
    for n in range(12):
        transport = httpx.ASGITransport(app=app, client=(f"10.0.0.{n}", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:4100") as c:
            response = await c.post("/api/login", json={"password": "wrong"})
            assert response.status_code == (429 if n >= 9 else 401), n
    async with client_for(app) as client:  # 127.0.0.1
        await login_with(client, PASSWORD)
    deps.login_report.flush()
