"""The OpenAPI schema tells the truth: schemathesis sends every operation requests drawn from
the schema (valid ones and broken ones) and checks each answer against it.

Asserted for every answer: no 5xx; its status code is one the schema documents for the
operation; its content type and body conform to what the schema says for that status.
The number of examples per operation is bounded so that the whole run fits in CI.
"""

import json
import os

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import LocationFactory, ProductFactory

# Per operation; about 40 operations. OMS_SCHEMA_EXAMPLES=200 searches harder (locally).
EXAMPLES = int(os.environ.get("OMS_SCHEMA_EXAMPLES", "6"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _schema_document() -> dict:
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


# Fuzzing only: the coverage phase's boundary cases for every field of every operation take
# many times longer than CI allows.
CONFIG = SchemathesisConfig.from_dict(
    {
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "generation": {"max-examples": EXAMPLES},
    }
)
schema = schemathesis.openapi.from_dict(_schema_document(), config=CONFIG)
schema.app = get_wsgi_application()


@pytest.fixture
def token(db, settings):
    """A token of a superuser (every permission, no scope), and a little data to find."""
    settings.ALLOWED_HOSTS = ["*"]
    # The requests go through the WSGI handler inside the test's transaction: keep Django
    # from closing the connection after each, as its own test client does.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    user = get_user_model().objects.create_superuser("schema", "schema@example.com", "pw-x")
    ProductFactory(sku="SKU-1")
    LocationFactory(code="DC-1")
    yield Token.objects.create(user=user).key
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_the_schema_says(case, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)


def test_the_schema_gives_times_as_hh_mm_and_money_as_decimal_strings():
    components = _schema_document()["components"]["schemas"]
    for name in ("LocationOutput", "LocationInputRequest"):
        cutoff = components[name]["properties"]
        assert cutoff["cutoff_time"]["pattern"] == r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
        assert "format" not in cutoff["cutoff_time"]
    price = components["ProductOutput"]["properties"]["price"]
    assert price["type"] == "string" and price["format"] == "decimal"


def test_every_operation_documents_its_error_answers():
    document = _schema_document()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"400", "401", "403", "404"} <= codes, (method, path)
            if method in ("post", "put", "patch"):
                assert {"409", "413", "415"} <= codes, (method, path)
