"""``manage.py scim_setup_docs [--check] [--output docs/idp]``: write the IdP guides as Markdown.

The guides' one source is the package's templates (:mod:`scim_provisioning.setup.guides`);
the guided-setup page renders the same templates with a team's values. ``--check``
writes nothing and exits 1 when the files differ from what the templates give.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...setup.guides import docs_files, write_docs


class Command(BaseCommand):
    help = "Write docs/idp/*.md from the guided setup's guide templates (or --check them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", default="docs/idp", help="Directory (default: docs/idp).")
        parser.add_argument(
            "--check", action="store_true", help="Change nothing; exit 1 if a file is stale."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(options["output"])
        if options["check"]:
            stale = [
                name
                for name, content in docs_files().items()
                if not (directory / name).exists() or (directory / name).read_text() != content
            ]
            if stale:
                raise CommandError(
                    f"Stale in {directory}: {', '.join(stale)}. Run manage.py scim_setup_docs.",
                    returncode=1,
                )
            self.stdout.write(f"{directory} matches the guide templates.")
            return
        changed = write_docs(directory)
        self.stdout.write(f"Wrote {', '.join(changed)}." if changed else "Nothing to change.")
