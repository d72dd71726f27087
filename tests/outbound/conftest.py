import pytest

from tests.outbound.receiver import Receiver


@pytest.fixture
def receiver():
    """A receiver listening on localhost, stopped after the test."""
    running = Receiver().start()
    yield running
    running.stop()
