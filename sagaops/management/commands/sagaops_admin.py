"""Make sure the console can be entered: create the superuser ``admin`` when there is none.

``make run`` calls this after ``migrate``. With no superuser it creates ``admin`` with a random
password and prints both; once a superuser exists it says so and prints nothing secret, so it
is safe to run on every start. ``--password`` (or DJANGO_SUPERUSER_PASSWORD) sets the password
explicitly: the superuser is created with it, or an existing one of that name gets it.
"""

from __future__ import annotations

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction


class Command(BaseCommand):
    help = "Create the superuser 'admin' with a random password if no superuser exists, and print it."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin", help="Superuser name (default: admin).")
        parser.add_argument(
            "--password",
            default=None,
            help=(
                "Use this password instead of a random one; if the user already exists, set its "
                "password. Defaults to $DJANGO_SUPERUSER_PASSWORD when that is set."
            ),
        )
        parser.add_argument("--email", default="admin@localhost", help="E-mail of a new superuser.")

    def handle(self, *args, **options):
        User = get_user_model()
        username = options["username"]
        password = options["password"] or os.environ.get("DJANGO_SUPERUSER_PASSWORD") or None
        if password is not None and not password.strip():
            raise CommandError("The password must not be empty.")

        with transaction.atomic():
            existing = User._default_manager.select_for_update().filter(**{User.USERNAME_FIELD: username}).first()

            if password is not None:
                if existing is not None:
                    existing.set_password(password)
                    existing.is_staff = True
                    existing.is_superuser = True
                    existing.is_active = True
                    existing.save()
                    self.stdout.write(f"Password of superuser {username!r} set.")
                    return
                self._create(User, username, options["email"], password)
                self.stdout.write(self.style.SUCCESS(f"Created superuser {username!r} with the given password."))
                return

            superusers = User._default_manager.filter(is_superuser=True)
            if superusers.exists():
                names = ", ".join(sorted(superusers.values_list(User.USERNAME_FIELD, flat=True)[:5]))
                self.stdout.write(
                    f"A superuser already exists ({names}); not changing it. "
                    f"Use 'manage.py sagaops_admin --password ...' or 'manage.py changepassword' to reset."
                )
                return
            if existing is not None:
                raise CommandError(
                    f"A user {username!r} exists but is not a superuser: pass --password to promote it, "
                    "or --username to pick another name."
                )

            password = secrets.token_urlsafe(12)
            self._create(User, username, options["email"], password)

        self.stdout.write(self.style.SUCCESS("Created the console superuser:"))
        self.stdout.write(f"  username: {username}")
        self.stdout.write(f"  password: {password}")

    @staticmethod
    def _create(User, username: str, email: str, password: str) -> None:
        fields = {User.USERNAME_FIELD: username}
        if "email" in {f.name for f in User._meta.get_fields()}:
            fields["email"] = email
        User._default_manager.create_superuser(password=password, **fields)
