"""The bearer-token helper: right answers, and the comparison is hmac.compare_digest (constant time)."""

from __future__ import annotations

import hmac

from djq.web import auth


def test_tokens_match_only_when_equal():
    assert auth.tokens_match("abc-123", "abc-123")
    assert not auth.tokens_match("abc-124", "abc-123")
    assert not auth.tokens_match("abc-12", "abc-123")
    assert not auth.tokens_match("", "abc-123")
    assert auth.tokens_match("ünïcode-tøken", "ünïcode-tøken")


def test_the_comparison_is_hmac_compare_digest(monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    assert not auth.tokens_match("wrong", "right")
    assert auth.tokens_match("right", "right")
    assert calls == [(b"wrong", b"right"), (b"right", b"right")]


def test_bearer_token_parsing():
    from django.test import RequestFactory

    rf = RequestFactory()
    assert auth.bearer_token(rf.get("/", HTTP_AUTHORIZATION="Bearer abc")) == "abc"
    assert auth.bearer_token(rf.get("/", HTTP_AUTHORIZATION="bearer  abc ")) == "abc"
    assert auth.bearer_token(rf.get("/", HTTP_AUTHORIZATION="Basic abc")) is None
    assert auth.bearer_token(rf.get("/", HTTP_AUTHORIZATION="Bearer ")) is None
    assert auth.bearer_token(rf.get("/")) is None


def test_counters_restart_at_a_boundary_every_process_agrees_on():
    from datetime import UTC, datetime, timedelta

    from djq.web.source import COUNTER_PERIOD, counter_start

    now = datetime(2026, 12, 1, 23, 59, 30, tzinfo=UTC)
    assert counter_start(now) == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    assert counter_start(now + timedelta(minutes=1)) == datetime(2026, 12, 2, 0, 0, tzinfo=UTC)
    assert counter_start(now) <= now < counter_start(now) + COUNTER_PERIOD
