"""Receivers check X-OMS-Signature-256 over X-OMS-Timestamp and the body (outbox/verify.py)."""

from __future__ import annotations

import re
import time

import pytest

from outbox.relay import outbox_relay
from outbox.signing import signature, timed_headers
from outbox.verify import signature_verify
from tests.outbound.helpers import SECRET, an_order, subscribed

BODY = b'{"id":"5b6f","event":"order.created","created_at":"2026-03-02T10:15:00+01:00","data":{}}'
NOW = 1_780_000_000


def signed(body: bytes = BODY, at: int = NOW) -> dict[str, str]:
    return timed_headers(body, SECRET, at)


@pytest.mark.django_db
def test_each_delivery_carries_a_timestamp_and_a_signature_over_it_and_the_body(receiver):
    # given
    subscribed(receiver.url, events=["order.created"])
    an_order()
    before = int(time.time())

    # when
    outbox_relay()

    # then
    received = receiver.received[0]
    stamp = received.headers["X-OMS-Timestamp"]
    assert before <= int(stamp) <= time.time()
    assert re.fullmatch(rf"t={stamp},v1=[0-9a-f]{{64}}", received.headers["X-OMS-Signature-256"])
    assert received.headers["X-OMS-Signature"] == signature(received.body, SECRET)
    assert signature_verify(received.body, received.headers, SECRET)


def test_a_signed_body_within_the_tolerance_verifies():
    assert signature_verify(BODY, signed(), SECRET, now=NOW)
    assert signature_verify(BODY, signed(), SECRET, now=NOW + 299)
    # header names in any letter case
    lowered = {name.lower(): value for name, value in signed().items()}
    assert signature_verify(BODY, lowered, SECRET, now=NOW)


def test_a_tampered_body_does_not_verify():
    assert not signature_verify(BODY.replace(b"order", b"ORDER"), signed(), SECRET, now=NOW)


def test_another_secret_does_not_verify():
    assert not signature_verify(BODY, signed(), "another-secret-0123456789", now=NOW)


def test_a_delivery_older_than_the_tolerance_is_refused():
    # a captured delivery replayed six minutes later
    assert not signature_verify(BODY, signed(), SECRET, now=NOW + 301)
    # the tolerance is the receiver's to choose
    assert signature_verify(BODY, signed(), SECRET, tolerance_seconds=600, now=NOW + 301)
    # nor from too far in the future
    assert not signature_verify(BODY, signed(), SECRET, now=NOW - 301)


def test_a_replay_with_a_fresh_timestamp_does_not_verify():
    # given: a captured delivery, its timestamp rewritten to look recent
    replayed = signed()
    replayed["X-OMS-Timestamp"] = str(NOW + 3600)

    # then: neither the rewritten header alone nor both rewritten verify
    assert not signature_verify(BODY, replayed, SECRET, now=NOW + 3600)
    replayed["X-OMS-Signature-256"] = replayed["X-OMS-Signature-256"].replace(
        f"t={NOW}", f"t={NOW + 3600}"
    )
    assert not signature_verify(BODY, replayed, SECRET, now=NOW + 3600)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-OMS-Timestamp": str(NOW)},
        {"X-OMS-Timestamp": "soon", "X-OMS-Signature-256": "t=soon,v1=00"},
        {"X-OMS-Timestamp": str(NOW), "X-OMS-Signature-256": f"t={NOW}"},
        {"X-OMS-Signature": signature(BODY, SECRET)},
    ],
)
def test_missing_or_malformed_headers_do_not_verify(headers):
    assert not signature_verify(BODY, headers, SECRET, now=NOW)
