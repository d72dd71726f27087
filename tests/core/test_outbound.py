"""Outbound requests reach public hosts only (core/outbound.py)."""

import pytest

from core.outbound import OutboundRefused, outbound_addresses, outbound_url_check


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379/",
        "http://127.0.0.1:5432/",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "https://10.0.0.8/hook",
        "https://192.168.1.20/hook",
        "https://172.16.5.4/hook",
        "https://100.64.0.1/hook",
        "http://0.0.0.0:8000/",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fe80::1]/hook",
        "http://224.0.0.1/hook",
    ],
)
def test_it_refuses_a_literal_address_that_is_not_public(url):
    with pytest.raises(OutboundRefused) as refused:
        outbound_url_check(url)
    # then: the error names the field and says why
    assert refused.value.field == "url"
    assert "public" in refused.value.message


def test_it_refuses_a_name_that_resolves_to_loopback():
    # given: "localhost" resolves to 127.0.0.1 (and ::1) through the system resolver
    with pytest.raises(OutboundRefused, match="not a public address"):
        outbound_url_check("https://localhost:6379/")


def test_it_refuses_a_name_that_does_not_resolve():
    with pytest.raises(OutboundRefused, match="does not resolve"):
        outbound_url_check("https://no-such-host.invalid/hook", field="webhook_url")


@pytest.mark.parametrize(
    "url, why",
    [
        ("https://user:pw@93.184.216.34/hook", "user name or password"),
        ("ftp://93.184.216.34/hook", "https://"),
        ("file:///etc/passwd", "https://"),
        ("https:///hook", "no host"),
        ("https://93.184.216.34:99999/hook", "valid URL"),
    ],
)
def test_it_refuses_urls_it_cannot_send_to_safely(url, why):
    with pytest.raises(OutboundRefused, match=why):
        outbound_url_check(url)


def test_it_takes_a_public_address():
    # when / then: no resolution needed for a literal public address
    outbound_url_check("https://93.184.216.34/hook")
    assert outbound_addresses("93.184.216.34", 443) == ["93.184.216.34"]


def test_an_allowed_host_is_taken_as_it_is(settings):
    # given
    settings.OMS_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1", "LocalHost.", "[::1]"]
    # when / then
    outbound_url_check("http://127.0.0.1:8001/hook")
    outbound_url_check("http://localhost:8001/hook")
    outbound_url_check("http://[::1]:8001/hook")
    assert outbound_addresses("localhost", 8001) == ["localhost"]
    with pytest.raises(OutboundRefused):
        outbound_url_check("http://127.0.0.2:8001/hook")
