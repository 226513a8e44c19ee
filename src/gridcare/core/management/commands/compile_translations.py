"""Compile the .po catalogues to .mo with Babel (pure Python; no GNU gettext needed on the machine)."""
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "编译界面翻译（.po → .mo）"

    def handle(self, *args, **options):
        count = 0
        for locale_dir in settings.LOCALE_PATHS:
            for po_path in Path(locale_dir).glob("*/LC_MESSAGES/*.po"):
                mo_path = po_path.with_suffix(".mo")
                if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                with open(po_path, "rb") as fh:
                    catalog = read_po(fh)
                with open(mo_path, "wb") as fh:
                    write_mo(fh, catalog)
                count += 1
        self.stdout.write(f"compiled {count} catalogue(s)")
