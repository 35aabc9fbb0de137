"""The dashboard's languages: English (the source strings) and French, through gettext (Babel).

Every UI string in the templates goes through ``_()`` / ``{% trans %}`` and every string the
routes show through :func:`Lang.gettext`. The French catalogue is
``locale/fr/LC_MESSAGES/messages.po``, compiled to the committed ``messages.mo`` by
``make messages`` (``tools/messages.py``); ``tests/dashboard/test_i18n.py`` fails on any string
without a French translation and on a ``.mo`` older than its ``.po``.

The locale: ``?lang=fr`` (or ``en``) on any page is kept in the session; without one the
browser's ``Accept-Language`` decides; English otherwise. Dates and numbers are formatted by
Babel for the locale.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, dates, numbers
from babel.support import NullTranslations, Translations
from jinja2 import pass_context
from markupsafe import Markup
from starlette.requests import Request

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
LANGUAGES = ("en", "fr")
DEFAULT = "en"
NAMES = {"en": "English", "fr": "Français"}
SESSION_KEY = "lang"


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


@lru_cache(maxsize=len(LANGUAGES))
def translations(lang: str) -> NullTranslations:
    if lang == DEFAULT:
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [lang], domain=DOMAIN)


def _accepted(header: str) -> list[str]:
    """Accept-Language as language tags, best first. Babel negotiates among tags but does not
    parse the header's q-values, hence these few lines."""
    ranked = []
    for i, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > 0:
            ranked.append((-q, i, tag.strip()))
    return [tag for _q, _i, tag in sorted(ranked)]


def choose(request: Request) -> str:
    """The request's language: ``?lang=`` (kept in the session), the session, the browser's."""
    wanted = request.query_params.get("lang", "")
    has_session = "session" in request.scope
    if wanted in LANGUAGES:
        if has_session:
            request.session[SESSION_KEY] = wanted
        return wanted
    kept = request.session.get(SESSION_KEY) if has_session else None
    if kept in LANGUAGES:
        return str(kept)
    preferred = [t.replace("_", "-") for t in _accepted(request.headers.get("accept-language", ""))]
    best = Locale.negotiate(preferred, list(LANGUAGES), sep="-")
    return best.language if best is not None else DEFAULT


@dataclass(frozen=True)
class Lang:
    """One request's language: gettext and Babel's formatting for the templates and routes."""

    code: str

    @property
    def tr(self) -> NullTranslations:
        return translations(self.code)

    def gettext(self, message: str, /, **values: Any) -> str:
        text = self.tr.gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, /, **values: Any) -> str:
        text = self.tr.ngettext(singular, plural, n)
        return text % {"num": n, **values}

    def number(self, value: float | int | None, digits: int = 0) -> str:
        if value is None:
            return "—"
        fmt = "#,##0" + ("." + "0" * digits if digits else "")
        return numbers.format_decimal(value, format=fmt, locale=self.code)

    def percent(self, value: float | None, digits: int = 0) -> str:
        """``value`` in per cent (74.2 -> "74 %" in French, "74%" in English)."""
        if value is None:
            return "—"
        # The locale's own pattern ("74 %" in French), with the number of decimals asked for.
        pattern = copy.copy(numbers.parse_pattern(Locale.parse(self.code).percent_formats[None]))
        pattern.frac_prec = (digits, digits)
        # str(): Babel leaves NumberPattern.apply unannotated (it returns the formatted text)
        return str(pattern.apply(value / 100, Locale.parse(self.code)))

    def date(self, value: dt.date | dt.datetime | str | None, form: str = "medium") -> str:
        if value is None or value == "":
            return "—"
        if isinstance(value, str):
            text = value
            try:
                value = dt.datetime.fromisoformat(text) if "T" in text else dt.date.fromisoformat(text)
            except ValueError:
                return text
        if isinstance(value, dt.datetime):
            return dates.format_datetime(value, format=form, locale=self.code, tzinfo=value.tzinfo)
        return dates.format_date(value, format=form, locale=self.code)

    def cday(self, day: int | None, c_day: dt.date | str | None = None) -> str:
        """``C+N``, with the calendar date beside it when a C-day is known (assumed or not)."""
        if day is None:
            return "—"
        text = f"C{'+' if day >= 0 else '−'}{abs(day)}"
        if c_day:
            start = dt.date.fromisoformat(c_day) if isinstance(c_day, str) else c_day
            text += f" ({self.date(start + dt.timedelta(days=day))})"
        return text

    def country(self, iso3: str, default: str) -> str:
        """A country's name in this language, by its ISO 3166 alpha-3 code: Babel's (CLDR)
        territory name in French ("Pologne"); ``default`` (the source data's English name) in
        English and for a code CLDR does not know."""
        return country_name(self.code, iso3, default)

    def template_globals(self) -> dict[str, Any]:
        """The names the templates use: ``_``, ``gettext``/``ngettext`` for ``{% trans %}``
        (new-style: ``%(name)s`` placeholders, values escaped) and the formatters."""

        @pass_context
        def gettext(context: Any, message: str, /, **values: Any) -> str:
            text = self.tr.gettext(message)
            if context.eval_ctx.autoescape:
                text = Markup(text)
            return text % values if values else text

        @pass_context
        def ngettext(context: Any, singular: str, plural: str, n: int, /, **values: Any) -> str:
            text = self.tr.ngettext(singular, plural, n)
            if context.eval_ctx.autoescape:
                text = Markup(text)
            return text % {"num": n, **values}

        return {
            "_": gettext,
            "gettext": gettext,
            "ngettext": ngettext,
            "lang": self.code,
            "languages": [(c, NAMES[c]) for c in LANGUAGES],
            "num": self.number,
            "pct": self.percent,
            "fdate": self.date,
            "cday": self.cday,
        }


@lru_cache(maxsize=512)
def country_name(lang: str, iso3: str, default: str) -> str:
    """See :meth:`Lang.country` (CLDR maps alpha-3 codes to alpha-2 as territory aliases)."""
    if lang == DEFAULT:
        return default
    from babel.core import get_global

    alpha2 = (get_global("territory_aliases").get(iso3.upper()) or [None])[0]
    names = Locale.parse(lang).territories
    return str(names.get(alpha2, default)) if alpha2 else default


def request_lang(request: Request) -> Lang:
    cached = request.scope.get("coalition.lang")
    if isinstance(cached, Lang):
        return cached
    lang = Lang(choose(request))
    request.scope["coalition.lang"] = lang
    return lang


__all__ = ["LANGUAGES", "Lang", "N_", "choose", "country_name", "request_lang", "translations"]
