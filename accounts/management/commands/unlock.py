"""Release sign-in locks: `unlock USERNAME`, `unlock --address IP`, `unlock --all`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.lockout_handler import bump_generation


class Command(BaseCommand):
    help = (
        "Release sign-in locks kept in the cache: one username (at every address), one "
        "address (every username there, and the address itself), or all of them."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username", nargs="?", help="the username to release")
        parser.add_argument("--address", help="the client address to release")
        parser.add_argument("--all", action="store_true", help="release every lock")

    def handle(self, *args, username=None, address=None, all=False, **options) -> None:
        if not (username or address or all):
            raise CommandError("Say what to unlock: USERNAME, --address IP or --all.")
        if all:
            bump_generation("all")
            self.stdout.write("Released every sign-in lock.")
            return
        if username:
            bump_generation("user", username)
            self.stdout.write(f"Released the sign-in locks of {username}.")
        if address:
            bump_generation("address", address)
            self.stdout.write(f"Released the sign-in locks at {address}.")
