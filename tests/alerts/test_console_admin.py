"""The alerts page, its actions and badge; the admin's alerts and threshold import."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert, StockRule
from alerts.services import alerts_evaluate_stock
from tests.alerts.helpers import set_available
from tests.factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("alerts_console:list")


@pytest.fixture
def alerts(global_threshold):
    tee, cap = ProductFactory(sku="TEE"), ProductFactory(sku="CAP")
    paris, lyon = LocationFactory(code="PARIS"), LocationFactory(code="LYON")
    set_available(tee, paris, 1)
    set_available(cap, lyon, 2)
    alerts_evaluate_stock()
    return {a.product.sku: a for a in Alert.objects.select_related("product")}


def test_the_page_lists_alerts_with_links_figures_and_the_badge(
    admin_client_logged, alerts, django_assert_max_num_queries
):
    # when
    with django_assert_max_num_queries(12):
        response = admin_client_logged.get(PAGE)

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("console:product-stock", args=["TEE"]) in html
    assert reverse("admin:inventory_location_change", args=[alerts["TEE"].location_id]) in html
    assert "1 unit available" in html and "at or below the threshold of 5" in html
    assert alerts["TEE"].product.name in html and alerts["TEE"].location.name in html
    assert 'id="alerts-badge"' in html and 'alerts-badge-count">2<' in html


def test_the_badge_costs_no_query_once_counted_and_follows_actions(admin_client_logged, alerts):
    # given: a page counted the badge
    home = reverse("admin:index")
    assert 'alerts-badge-count">2<' in admin_client_logged.get(home).content.decode()
    with CaptureQueriesContext(connection) as counted:
        admin_client_logged.get(home)
    assert not [q for q in counted.captured_queries if "alerts_alert" in q["sql"]]

    # when: someone acknowledges one
    action = reverse("alerts_console:action", args=[alerts["TEE"].pk, "acknowledge"])
    assert admin_client_logged.post(action).status_code == 302

    # then: the next page counts again, and shows one
    assert 'alerts-badge-count">1<' in admin_client_logged.get(home).content.decode()


def test_the_page_filters_by_kind_location_and_status(admin_client_logged, alerts):
    # given
    alerts["CAP"].status = "resolved"
    alerts["CAP"].save(update_fields=["status"])

    def shown(**query):
        page = admin_client_logged.get(PAGE, query)
        return sorted(a.product.sku for a in page.context["alerts"])

    # then
    assert shown() == ["TEE"]  # unresolved by default
    assert shown(status="") == ["CAP", "TEE"]
    assert shown(status="resolved") == ["CAP"]
    assert shown(status="", location="LYON") == ["CAP"]
    assert shown(status="", kind="late_order") == []


def test_the_actions_acknowledge_snooze_and_resolve(admin_client_logged, alerts, staff_user):
    # given
    tee, cap = alerts["TEE"], alerts["CAP"]

    # when
    acknowledged = admin_client_logged.post(
        reverse("alerts_console:action", args=[tee.pk, "acknowledge"]), {"next": "?status="}
    )
    snoozed = admin_client_logged.post(
        reverse("alerts_console:action", args=[cap.pk, "snooze"]), {"until": "2999-01-01"}
    )
    refused = admin_client_logged.post(
        reverse("alerts_console:action", args=[cap.pk, "snooze"]),
        {"until": "2001-01-01"},
        follow=True,
    )
    resolved = admin_client_logged.post(reverse("alerts_console:action", args=[tee.pk, "resolve"]))

    # then
    assert acknowledged.status_code == 302 and acknowledged["Location"] == f"{PAGE}?status="
    assert snoozed.status_code == 302 and resolved.status_code == 302
    assert "Snooze until a day after today." in refused.content.decode()
    tee.refresh_from_db()
    cap.refresh_from_db()
    assert (tee.status, tee.acknowledged_by, tee.resolved_by) == (
        "resolved",
        staff_user,
        staff_user,
    )
    assert timezone.localtime(cap.snoozed_until).year == 2999 and cap.status == "open"


def test_the_page_and_actions_need_staff(client, alerts, django_user_model):
    # given
    someone = django_user_model.objects.create_user(username="x", password="pw")
    client.force_login(someone)

    # then
    assert client.get(PAGE).status_code == 302
    url = reverse("alerts_console:action", args=[alerts["TEE"].pk, "resolve"])
    assert client.post(url).status_code == 302
    assert Alert.objects.get(pk=alerts["TEE"].pk).status == "open"


def test_the_admin_lists_alerts_and_its_actions_call_the_services(admin_client_logged, alerts):
    # when
    listing = admin_client_logged.get(reverse("admin:alerts_alert_changelist"))
    acted = admin_client_logged.post(
        reverse("admin:alerts_alert_changelist"),
        {"action": "acknowledge", "_selected_action": [alerts["TEE"].pk, alerts["CAP"].pk]},
    )

    # then
    assert listing.status_code == 200 and "TEE" in listing.content.decode()
    assert acted.status_code == 302
    assert set(Alert.objects.values_list("status", flat=True)) == {"acknowledged"}


def test_the_admin_imports_thresholds_from_csv(admin_client_logged):
    # given
    ProductFactory(sku="TEE")
    LocationFactory(code="PARIS")
    data = b"sku,location,threshold,lead_time_days\nTEE,PARIS,4,10\n,PARIS,2,\n,,1,\n"
    url = reverse("admin:alerts_stockrule_import")

    # when: upload, then confirm
    preview = admin_client_logged.post(
        url,
        {
            "import_file": SimpleUploadedFile("rules.csv", data, content_type="text/csv"),
            "format": "0",
            "resource": "0",
        },
    )
    assert preview.status_code == 200, preview.content[:2000]
    confirm = preview.context["confirm_form"]
    done = admin_client_logged.post(
        reverse("admin:alerts_stockrule_process_import"), confirm.initial
    )

    # then
    assert done.status_code == 302
    assert sorted(StockRule.objects.values_list("scope", "threshold", "lead_time_days")) == [
        ("global", 1, None),
        ("location", 2, None),
        ("place", 4, 10),
    ]


def test_an_import_with_an_unknown_sku_names_the_row_and_saves_nothing(admin_client_logged):
    # given
    data = b"sku,location,threshold,lead_time_days\nNOPE,,4,\n"

    # when
    preview = admin_client_logged.post(
        reverse("admin:alerts_stockrule_import"),
        {
            "import_file": SimpleUploadedFile("rules.csv", data, content_type="text/csv"),
            "format": "0",
            "resource": "0",
        },
    )

    # then
    assert preview.status_code == 200
    assert (
        preview.context["result"].has_validation_errors() or preview.context["result"].has_errors()
    )
    assert not StockRule.objects.exists()
