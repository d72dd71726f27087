"""The console's middleware (sessions, CSRF, the signed-in person, messages) pass by an API
request without a cookie, and serve one with a cookie as before: a person signed in to the
console reads the API with their session, and writes only with the CSRF token."""

from __future__ import annotations

import pytest
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client

ORDERS = "/api/v1/orders/"
PRODUCTS = "/api/v1/products/"


@pytest.mark.django_db
def test_a_token_call_gets_its_answer_and_no_cookie(api):
    answer = api.get(PRODUCTS)
    assert answer.status_code == 200
    assert not answer.cookies
    assert "Cookie" not in answer.get("Vary", "")


@pytest.mark.django_db
def test_a_call_with_neither_token_nor_cookie_is_refused(anonymous_api):
    answer = anonymous_api.get(PRODUCTS)
    assert answer.status_code in (401, 403)


@pytest.mark.django_db
def test_a_signed_in_person_reads_the_api_with_their_session(client, staff_user):
    client.force_login(staff_user)
    answer = client.get(PRODUCTS)
    assert answer.status_code == 200


@pytest.mark.django_db
def test_a_session_write_without_the_csrf_token_is_refused(staff_user):
    # given: a browser signed in to the console
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff_user)
    # when: a page of another site posts to the API with the person's cookie
    answer = browser.post(ORDERS, data={}, content_type="application/json")
    # then
    assert answer.status_code == 403
    assert "CSRF" in answer.json()["detail"]


@pytest.mark.django_db
def test_a_session_write_with_the_csrf_token_gets_past_the_check(staff_user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff_user)
    secret = _get_new_csrf_string()
    browser.cookies["csrftoken"] = secret
    answer = browser.post(ORDERS, data={}, content_type="application/json", HTTP_X_CSRFTOKEN=secret)
    # Refused for its body (or served), no longer for its origin.
    assert answer.status_code != 403


@pytest.mark.django_db
def test_the_console_still_sets_its_csrf_cookie_and_keeps_the_session(admin_client_logged):
    answer = admin_client_logged.get("/admin/login/", follow=False)
    login = Client().get("/admin/login/")
    assert "csrftoken" in login.cookies
    assert answer.status_code in (200, 302)
    assert admin_client_logged.get("/console/").status_code == 200
