"""manage.py ensure_admin: a superuser 'admin' for a local run, and how to log in."""

import stat
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


def _run() -> str:
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    return out.getvalue()


def test_it_creates_the_admin_with_a_private_generated_password(var_dir):
    # when
    said = _run()
    # then
    password = (var_dir / "admin_password").read_text().strip()
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password(password)
    assert len(password) >= 12
    assert stat.S_IMODE((var_dir / "admin_password").stat().st_mode) == 0o600
    assert f"Admin login: http://127.0.0.1:8000/admin/  user: admin  password: {password}" in said


def test_running_it_again_keeps_the_password_and_prints_it(var_dir):
    # given
    _run()
    password = (var_dir / "admin_password").read_text().strip()
    # when
    said = _run()
    # then
    assert get_user_model().objects.filter(username="admin").count() == 1
    assert get_user_model().objects.get(username="admin").check_password(password)
    assert f"password: {password}" in said
    assert "Created" not in said


def test_without_the_file_it_says_how_to_reset(var_dir, staff_user):
    # given: an admin made some other way (staff_user is named "admin"), no password file
    # when
    said = _run()
    # then
    assert "manage.py changepassword admin" in said
    assert not (var_dir / "admin_password").exists()
    assert get_user_model().objects.get(username="admin").check_password("admin-pass-123")


def test_a_stale_file_is_pointed_out(var_dir):
    # given
    _run()
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("changed-by-hand-123")
    admin.save(update_fields=["password"])
    # when
    said = _run()
    # then
    assert "changepassword admin" in said
