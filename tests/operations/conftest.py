# The webhook receiver on localhost, and leave for outbound requests to reach it.
from tests.outbound.conftest import _receivers_on_this_machine_allowed, receiver  # noqa: F401
