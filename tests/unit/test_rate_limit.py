"""``LoginRateLimiter`` with a fake clock."""

from __future__ import annotations

import pytest

from proactive_chat.web.auth.rate_limit import LOOPBACK, LoginRateLimiter, client_key


@pytest.fixture
def limiter(clock) -> LoginRateLimiter:
    return LoginRateLimiter(max_failures=5, window=60.0, clock=clock)


def fail(limiter: LoginRateLimiter, client: str, times: int, clock=None, step: float = 0.0):
    for _ in range(times):
        limiter.record_failure(client)
        if clock is not None:
            clock.advance(step)


def test_defaults():
    limiter = LoginRateLimiter()
    assert (limiter.max_failures, limiter.window, limiter.max_clients) == (5, 60.0, 4096)


def test_unknown_client_may_try(limiter):
    assert limiter.retry_after("1.2.3.4") == 0.0


def test_four_failures_do_not_block(limiter):
    fail(limiter, "a", 4)
    assert limiter.retry_after("a") == 0.0


def test_fifth_failure_blocks_for_the_whole_window(limiter):
    fail(limiter, "a", 5)
    assert limiter.retry_after("a") == 60.0


def test_retry_after_counts_from_the_oldest_of_the_last_five(limiter, clock):
    fail(limiter, "a", 5, clock, step=2.0)  # at t0, t0+2, ..., t0+8; now t0+10
    assert limiter.retry_after("a") == pytest.approx(50.0)
    clock.advance(49.5)
    assert limiter.retry_after("a") == pytest.approx(0.5)
    clock.advance(0.5)
    assert limiter.retry_after("a") == 0.0
    clock.advance(1000)
    assert limiter.retry_after("a") == 0.0


def test_window_slides(limiter, clock):
    limiter.record_failure("a")  # t0
    clock.advance(30)
    fail(limiter, "a", 3)  # t0+30
    clock.advance(29)
    limiter.record_failure("a")  # t0+59: five within 60 s
    assert limiter.retry_after("a") == pytest.approx(1.0)
    clock.advance(1)
    assert limiter.retry_after("a") == 0.0
    # One more failure now: the last five are t0+30 x3, t0+59, t0+60 -> blocked until t0+90.
    limiter.record_failure("a")
    assert limiter.retry_after("a") == pytest.approx(30.0)


def test_old_failures_do_not_count(limiter, clock):
    fail(limiter, "a", 4)
    clock.advance(61)
    limiter.record_failure("a")
    # Five recorded, but the oldest is outside the window.
    assert limiter.retry_after("a") == 0.0


def test_success_clears(limiter):
    fail(limiter, "a", 5)
    assert limiter.retry_after("a") > 0
    limiter.record_success("a")
    assert limiter.retry_after("a") == 0.0
    fail(limiter, "a", 4)
    assert limiter.retry_after("a") == 0.0


def test_success_for_unknown_client_is_harmless(limiter):
    limiter.record_success("never-seen")
    assert limiter.retry_after("never-seen") == 0.0


def test_clients_are_independent(limiter):
    fail(limiter, "a", 5)
    fail(limiter, "b", 4)
    assert limiter.retry_after("a") == 60.0
    assert limiter.retry_after("b") == 0.0
    limiter.record_success("b")
    assert limiter.retry_after("a") == 60.0


def test_memory_is_bounded_least_recent_forgotten(clock):
    limiter = LoginRateLimiter(max_failures=2, window=60, max_clients=3, clock=clock)
    for client in ("a", "b", "c"):
        fail(limiter, client, 2)
    limiter.record_failure("a")  # "a" is now the most recent; "b" the least
    limiter.record_failure("d")
    assert len(limiter._failures) == 3
    assert limiter.retry_after("b") == 0.0  # forgotten
    assert limiter.retry_after("a") == 60.0
    assert limiter.retry_after("c") == 60.0
    assert set(limiter._failures) == {"a", "c", "d"}


def test_many_clients_stay_bounded(clock):
    limiter = LoginRateLimiter(max_clients=100, clock=clock)
    for n in range(1000):
        limiter.record_failure(f"10.0.{n // 256}.{n % 256}")
    assert len(limiter._failures) == 100
    assert all(len(q) <= 5 for q in limiter._failures.values())


def test_failures_per_client_are_bounded(limiter):
    fail(limiter, "a", 10_000)
    assert len(limiter._failures["a"]) == 5


def test_shared_storage_keeps_the_count_across_a_reload(clock):
    from collections import OrderedDict

    storage: OrderedDict = OrderedDict()
    before = LoginRateLimiter(clock=clock, storage=storage)
    fail(before, "10.0.0.9", 4)
    after = LoginRateLimiter(clock=clock, storage=storage)  # the next plugin instance
    after.record_failure("10.0.0.9")
    assert after.retry_after("10.0.0.9") > 0


# --- counted before checked, per machine, and a ceiling across all -------------------


def test_reserve_counts_before_the_check_and_success_takes_it_back(limiter):
    assert [limiter.reserve("a") for _ in range(5)] == [0.0] * 5
    assert limiter.reserve("a") == 60.0  # the sixth concurrent attempt is refused
    limiter.record_success("a")
    assert limiter.reserve("a") == 0.0


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("127.0.0.1", LOOPBACK),
        ("127.0.0.2", LOOPBACK),
        ("127.255.1.9", LOOPBACK),
        ("::1", LOOPBACK),
        ("::ffff:127.0.0.5", LOOPBACK),
        ("::ffff:10.0.0.1", "10.0.0.1"),
        ("10.0.0.1", "10.0.0.1"),
        ("2001:db8::1", "2001:db8::/64"),
        ("2001:db8::ffff:2", "2001:db8::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("", "unknown"),
        (None, "unknown"),
        ("testclient", "testclient"),
    ],
)
def test_client_key_is_one_per_machine(host, key):
    assert client_key(host) == key


def test_ceiling_across_clients_spares_loopback(clock):
    limiter = LoginRateLimiter(max_total_failures=10, clock=clock)
    for n in range(10):
        assert limiter.reserve(f"10.0.0.{n}") == 0.0
    assert limiter.ceiling_wait() == 60.0
    assert limiter.reserve("10.9.9.9") == 60.0  # a new address waits too
    assert limiter.reserve(LOOPBACK) == 0.0  # the owner, on the machine itself, does not
    clock.advance(60.0)
    assert limiter.reserve("10.9.9.9") == 0.0


def test_loopback_has_its_own_per_client_limit(limiter):
    assert [limiter.reserve(LOOPBACK) for _ in range(5)] == [0.0] * 5
    assert limiter.reserve(LOOPBACK) == 60.0
    assert limiter.ceiling_wait() == 0.0
