import pytest
from django.contrib.auth.models import Permission

from alerts.models import StockRule

ALERT_PERMISSIONS = [
    "view_alert",
    "change_alert",
    "view_stockrule",
    "add_stockrule",
    "change_stockrule",
]


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
