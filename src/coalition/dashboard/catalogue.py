"""The dashboard's message catalogue, built with Babel: extraction of every UI string (Python
``_``/``N_``/``gettext`` calls in the dashboard package, ``_()``/``ngettext()`` in its Jinja
templates), the update of each language's ``.po`` and its compilation to ``.mo``.

``make messages`` runs :func:`main`; the i18n test calls :func:`extract` and :func:`compiled` to
fail on a string without a translation or a ``.mo`` older than its ``.po``.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from coalition.dashboard.i18n import DOMAIN, LANGUAGES, LOCALE_DIR

PACKAGE = Path(__file__).resolve().parent
METHODS = [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "tr": None}


def extract() -> Catalog:
    """Every translatable string of the dashboard, with where it is used."""
    catalog = Catalog(project="coalition", domain=DOMAIN, charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(PACKAGE),
        method_map=METHODS,
        keywords=KEYWORDS,
        options_map={"templates/**.html": {"silent": "false"}},
        strip_comment_tags=True,
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read(lang: str) -> Catalog:
    with po_path(lang).open("rb") as fh:
        return read_po(fh, locale=lang, domain=DOMAIN)


def compiled(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def main() -> int:
    """Extract, merge into each translation (new strings untranslated, obsolete ones dropped),
    compile. Prints what still lacks a translation; exit 1 if anything does."""
    template = extract()
    missing = 0
    for lang in LANGUAGES[1:]:
        path = po_path(lang)
        if path.exists():
            catalog = read(lang)
            catalog.update(template, update_header_comment=False, no_fuzzy_matching=True)
            catalog.obsolete.clear()
        else:
            catalog = Catalog(locale=lang, domain=DOMAIN, project="coalition")
            catalog.update(template)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, catalog, width=100, omit_header=False, sort_output=False)
        path.with_suffix(".mo").write_bytes(compiled(read(lang)))
        todo = [
            m.id
            for m in catalog
            if m.id and (not m.string or m.fuzzy or (isinstance(m.string, tuple) and not all(m.string)))
        ]
        missing += len(todo)
        for msg in todo:
            print(f"{lang}: untranslated: {msg!r}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
