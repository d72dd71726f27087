"""The browser fixtures (Chromium, a page at 1280 px, the screenshots folder, a small shop),
shared by every browser test module."""

from tests.browser.test_console_flows import chromium, page, screenshots, shop  # noqa: F401
