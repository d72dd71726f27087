import pytest

from tests.outbound.receiver import Receiver


@pytest.fixture
def receiver():
    """A receiver listening on localhost, stopped after the test."""
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _receivers_on_this_machine_allowed(settings, monkeypatch):
    """The receivers of these tests listen on 127.0.0.1, which outbound requests may reach
    only when allowed; the Celery workers the tests start read the same from the environment.
    Tests of the refusal take it away again."""
    settings.OMS_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    monkeypatch.setenv("OMS_OUTBOUND_ALLOWED_HOSTS", "127.0.0.1")
