import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache

from alerts.models import StockRule

ALERT_PERMISSIONS = [
    "view_alert",
    "change_alert",
    "view_stockrule",
    "add_stockrule",
    "change_stockrule",
]


@pytest.fixture(autouse=True)
def badge_cache_cleared():
    """The badge counts live in the per-process test cache: none may leak across tests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def alerts_api(api, user):
    """The integrator's client, with the alerts permissions a role would give."""
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="alerts", codename__in=ALERT_PERMISSIONS)
    )
    return api


@pytest.fixture
def global_threshold():
    return StockRule.objects.create(scope="global", threshold=5)
