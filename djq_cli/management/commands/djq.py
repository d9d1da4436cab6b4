"""``python manage.py djq ...``: the ``djq`` command tree inside a Django project."""

import os
import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "djq task queue operations (the same commands as the `djq` program)."

    def run_from_argv(self, argv: list[str]) -> None:
        from djq_cli.main import main

        # Django is already set up by manage.py; the tree must not set it up again.
        sys.exit(main(argv[2:], prog_name=f"{os.path.basename(argv[0])} djq", django_ready=True))
