"""The after-commit kick: one queued run for many commits, and none lost after a run starts."""

import pytest
from django.core.cache import caches

from core.kick import CACHE_ALIAS, kick, kick_clear

TASK = "oms.celery.debug_task_that_does_not_exist"


@pytest.fixture(autouse=True)
def _fresh_marker():
    caches[CACHE_ALIAS].delete("kick:test-key")
    yield
    caches[CACHE_ALIAS].delete("kick:test-key")


def test_it_sends_one_run_while_one_is_queued():
    # when
    sent = [kick(task_name=TASK, key="test-key") for _ in range(5)]

    # then
    assert sent == [True, False, False, False, False]


def test_it_sends_again_once_the_run_has_started():
    # given
    assert kick(task_name=TASK, key="test-key")

    # when the queued run starts, it clears the marker before reading its work
    kick_clear("test-key")

    # then a commit after that start queues another run
    assert kick(task_name=TASK, key="test-key")
