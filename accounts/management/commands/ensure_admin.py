import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

USERNAME = "admin"
# `make run PORT=...` serves elsewhere than 8000: say the address it really uses.
LOGIN_URL = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/admin/"
RESET = f"set a new one with `python manage.py changepassword {USERNAME}`"


class Command(BaseCommand):
    help = (
        "Make sure a superuser 'admin' exists for a local run. The first time, create it with "
        "a generated password kept in var/admin_password (readable by its owner only); every "
        "time, print how to log in."
    )

    def handle(self, *args, **options):
        path = settings.VAR_DIR / "admin_password"
        users = get_user_model()
        user = users.objects.filter(username=USERNAME).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
            # Make the file private before the secret goes in.
            path.touch(mode=0o600, exist_ok=True)
            path.chmod(0o600)
            path.write_text(password + "\n")
            user = users.objects.create_superuser(
                username=USERNAME, email="admin@localhost", password=password
            )
            self.stdout.write(f"Created superuser '{USERNAME}'; its password is in {path}.")
        elif not user.is_superuser:
            self.stdout.write(
                self.style.WARNING(
                    f"A user '{USERNAME}' exists but is not a superuser; it was left as it is. "
                    "Make it one in the admin, or log in with another superuser."
                )
            )
            return
        if not path.exists():
            self.stdout.write(
                f"Admin login: {LOGIN_URL}  user: {USERNAME}  password: not stored in {path}; "
                f"{RESET}."
            )
            return
        password = path.read_text().strip()
        self.stdout.write(f"Admin login: {LOGIN_URL}  user: {USERNAME}  password: {password}")
        if not user.check_password(password):
            self.stdout.write(
                self.style.WARNING(f"That password was changed since it was stored; {RESET}.")
            )
