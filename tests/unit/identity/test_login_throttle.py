"""The log-in throttle's decision (identity.service.throttle_wait), pure: which counter
refuses an attempt and for how long."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from identity.service import Counter, LoginLimits, throttle_wait

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
LIMITS = LoginLimits(per_pair=5, per_ip=20, window=timedelta(minutes=15), per_user=30,
                     slow_interval=timedelta(seconds=20))
EMPTY = Counter(NOW, 0)


def wait(pair: Counter = EMPTY, ip: Counter = EMPTY, user: Counter = EMPTY,
         known: bool = False) -> int | None:
    return throttle_wait(now=NOW, limits=LIMITS, pair=pair, ip=ip, user=user, known=known)


def test_under_every_limit_the_attempt_is_checked() -> None:
    assert wait(Counter(NOW, 4), Counter(NOW, 19), Counter(NOW, 29, NOW)) is None


def test_the_pair_limit_refuses_until_its_window_ends() -> None:
    started = NOW - timedelta(minutes=5)
    assert wait(pair=Counter(started, 5)) == 10 * 60
    # the window has ended: the counter is empty again
    assert wait(pair=Counter(NOW - timedelta(minutes=15), 5)) is None


def test_the_address_limit_counts_every_user() -> None:
    assert wait(ip=Counter(NOW - timedelta(seconds=899, microseconds=500_000), 20)) == 1
    assert wait(ip=Counter(NOW, 19)) is None


def test_the_user_limit_slows_rather_than_locks() -> None:
    # past the user's limit, one attempt per slow interval ...
    assert wait(user=Counter(NOW - timedelta(minutes=1), 30, NOW - timedelta(seconds=5))) == 15
    assert wait(user=Counter(NOW - timedelta(minutes=1), 30, NOW - timedelta(seconds=20))) \
        is None
    # ... and from an address the user logged in from, not at all
    assert wait(user=Counter(NOW - timedelta(minutes=1), 300, NOW), known=True) is None
    # the known address keeps its own pair limit
    assert wait(pair=Counter(NOW, 5), user=Counter(NOW, 300, NOW), known=True) == 15 * 60


def test_the_longest_wait_wins() -> None:
    assert wait(pair=Counter(NOW - timedelta(minutes=14), 5),
                ip=Counter(NOW - timedelta(minutes=2), 20)) == 13 * 60


@given(st.integers(0, 40), st.integers(0, 40), st.integers(0, 40),
       st.integers(0, 1800), st.integers(0, 60), st.booleans())
def test_a_wait_is_positive_and_never_past_the_window(pair: int, ip: int, user: int,
                                                      age_s: int, last_s: int,
                                                      known: bool) -> None:
    started = NOW - timedelta(seconds=age_s)
    w = wait(Counter(started, pair), Counter(started, ip),
             Counter(started, user, NOW - timedelta(seconds=last_s)), known)
    in_window = age_s < 15 * 60
    locked = in_window and (pair >= 5 or ip >= 20)
    slowed = in_window and not known and user >= 30 and last_s < 20
    assert (w is not None) == (locked or slowed)
    if w is not None:
        assert 1 <= w <= 15 * 60
