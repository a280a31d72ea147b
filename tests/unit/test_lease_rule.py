"""The fail-stop rule (bot/domain/lease.py): whatever happens to the pings, the active instance stops
strictly before the earliest moment the server could hand the lock to a standby."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.lease import MIN_MARGIN, LeaseState, LeaseTerms, earliest_release, lock_key, terms_problem


@dataclass(frozen=True)
class Ping:
    sent: float
    received: float | None  # by the server (None: lost on the way)
    answered: float | None  # the answer reached the active instance (None: lost, or never sent)


@st.composite
def histories(draw: st.DrawFn) -> tuple[LeaseTerms, float, list[Ping]]:
    heartbeat = draw(st.floats(0.5, 10))
    lease = draw(st.floats(MIN_MARGIN + 2 * heartbeat, 120))
    terms = LeaseTerms(lease=lease, heartbeat=heartbeat)
    acquired = draw(st.floats(0, 1000))
    pings: list[Ping] = []
    sent = acquired
    for _ in range(draw(st.integers(0, 40))):
        sent += draw(st.floats(0.001, 3 * heartbeat))
        received = sent + draw(st.floats(0, 2 * lease)) if draw(st.booleans()) else None
        answered = None
        if received is not None and draw(st.booleans()):
            answered = received + draw(st.floats(0, 2 * lease))
        pings.append(Ping(sent, received, answered))
    return terms, acquired, pings


def stop_moment(terms: LeaseTerms, acquired: float, pings: list[Ping]) -> float:
    """When the watchdog of bot/lease.py ends the process: it wakes at `stop_at()`, and an answer
    arriving before that moves it later."""
    state = LeaseState(terms, acquired)
    for ping in sorted((p for p in pings if p.answered is not None), key=lambda p: p.answered or 0):
        assert ping.answered is not None
        if state.must_stop(ping.answered):
            break
        state.ping_ok(ping.sent)
    return state.stop_at()


@given(histories())
def test_the_active_stops_before_the_server_can_release_the_lock(h: tuple[LeaseTerms, float, list[Ping]]) -> None:
    terms, acquired, pings = h
    # The lock was taken by a statement the server received no earlier than it was sent.
    last_received = max([acquired] + [p.received for p in pings if p.received is not None])
    stop = stop_moment(terms, acquired, pings)
    assert stop < earliest_release(terms, last_received)
    assert earliest_release(terms, last_received) - stop >= terms.margin - 1e-9  # float rounding, not time


def test_answered_pings_keep_it_going_and_silence_stops_it() -> None:
    state = LeaseState(LeaseTerms(lease=15, heartbeat=2), acquired_sent=100.0)
    assert state.stop_at() == 112.0
    state.ping_ok(102.0)
    state.ping_ok(101.0)  # an older answer arriving late moves nothing back
    assert state.stop_at() == 114.0
    assert not state.must_stop(113.999) and state.must_stop(114.0)


def test_terms_that_cannot_work_are_named() -> None:
    assert terms_problem(15, 2) is None
    assert terms_problem(7, 2) is None
    assert "at least 7 s" in (terms_problem(6.5, 2) or "")
    assert "heartbeat" in (terms_problem(15, 0.1) or "")
    assert "at most" in (terms_problem(7200, 2) or "")


def test_the_lock_key_is_a_fixed_signed_64_bit_number() -> None:
    key = lock_key("dutydesk.active")
    assert key == lock_key("dutydesk.active") != lock_key("dutydesk.other")
    assert -(2**63) <= key < 2**63
