"""French and English: every UI string has a French translation (extracted from the code, not
listed by hand), the committed .mo is the compiled .po, the locale follows ?lang= (kept in the
session) and Accept-Language, and French pages show no English UI string."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from fastapi.testclient import TestClient

from api.harness import Service, sqlite_svc  # noqa: F401 - fixtures
from coalition.dashboard import catalogue
from coalition.dashboard.i18n import Lang

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _translations() -> dict[object, object]:
    return {m.id: m for m in catalogue.read("fr") if m.id}


def test_every_extracted_string_has_a_french_translation() -> None:
    extracted = [m.id for m in catalogue.extract() if m.id]
    assert len(extracted) > 250  # the scan sees the templates and the Python strings
    assert "Carte" not in extracted and "Map" in extracted and "Pledges" in extracted
    # messages the routes build in Python (through `tr = lang.gettext`) are extracted too
    assert "The ceasefire date '%(value)s' is not a date (use YYYY-MM-DD)." in extracted
    fr = _translations()
    missing = [i for i in extracted if i not in fr]
    assert not missing, f"not in the French catalogue (run `make messages`): {missing[:10]}"
    empty = [i for i in extracted
             if fr[i].fuzzy or not (all(fr[i].string) if isinstance(fr[i].string, tuple)
                                    else fr[i].string)]
    assert not empty, f"no French translation: {empty[:10]}"


def test_translations_keep_their_placeholders() -> None:
    for msgid, m in _translations().items():
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for s in strings:
            assert set(PLACEHOLDER.findall(s)) == wanted, (msgid, s)


def test_the_committed_mo_is_the_compiled_po() -> None:
    mo = catalogue.po_path("fr").with_suffix(".mo")
    assert mo.read_bytes() == catalogue.compiled(catalogue.read("fr")), \
        "messages.mo is stale: run `make messages`"


def test_numbers_and_dates_follow_the_locale() -> None:
    fr, en = Lang("fr"), Lang("en")
    assert en.number(12345) == "12,345"
    assert fr.number(12345).replace("\u202f", " ").replace("\xa0", " ") == "12 345"
    assert en.percent(74.25, 1) == "74.2%" or en.percent(74.25, 1) == "74.3%"
    assert fr.percent(74.0).replace("\u202f", " ").replace("\xa0", " ") == "74 %"
    assert en.date("2026-07-14") == "Jul 14, 2026"
    assert fr.date("2026-07-14") == "14 juil. 2026"
    assert fr.cday(30, "2026-06-01") == "C+30 (1 juil. 2026)"
    assert en.cday(-3) == "C−3"


class _Text(HTMLParser):
    """The text a reader sees or hears: text nodes and the attributes read aloud."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "code", "pre"):
            self._skip += 1
        for name, value in attrs:
            if name in ("title", "aria-label", "alt", "placeholder") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code", "pre") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _sign_in(svc: Service, user: str, **headers: str) -> TestClient:
    c = TestClient(svc.app, base_url="https://testserver", headers=headers)
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
    assert c.post("/login", data={"token": svc.tokens[user], "csrf": csrf},
                  follow_redirects=False).status_code == 303
    return c


def test_locale_follows_accept_language_and_lang_is_kept(sqlite_svc: Service) -> None:
    c = _sign_in(sqlite_svc, "gbr-planner", **{"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.4"})
    page = c.get("/map").text
    assert '<html lang="fr">' in page
    nav = re.search(r'<nav aria-label="[^"]+" data-testid="nav">(.*?)</nav>', page, re.S).group(1)
    labels = re.findall(r">([^<]+)</a>", nav)
    assert labels[:5] == ["Carte", "Lacunes", "Plan", "Dépôts", "Registre"]
    assert "Engagements" in labels
    assert '<html lang="en">' in c.get("/map?lang=en").text
    assert '<html lang="en">' in c.get("/pledges").text  # kept in the session over the header
    assert '<html lang="fr">' in c.get("/gaps?lang=fr").text
    assert '<html lang="fr">' in c.get("/plan").text
    other = _sign_in(sqlite_svc, "gbr-viewer", **{"Accept-Language": "de-DE,de;q=0.9"})
    assert '<html lang="en">' in other.get("/map").text  # no German: English
    fr_only = _sign_in(sqlite_svc, "fra-planner", **{"Accept-Language": "en;q=0.2, fr"})
    assert '<html lang="fr">' in fr_only.get("/map").text  # q-values decide, not the order


PAGES = ("/map", "/gaps", "/plan", "/depots", "/ledger", "/audit", "/pledges", "/pledges/GBR-inf",
         "/tokens", "/hubs/KYIV", "/hubs/NOPE", "/login", "/gaps?ceasefire=soon&us_backstop=x",
         "/inspector?donor=GBR", "/depots/NO-DEPOT/placement", "/scenario", "/scenario/diff?from=1",
         "/sustain", "/analysis")


def test_french_pages_show_no_english_ui_string(sqlite_svc: Service) -> None:
    """Every page in French: no English phrase of the catalogue is left on it. (The plan page
    with a plan, the pledge forms and a conflict are checked in the browser journeys.)"""
    english = [m for m in _translations().values()
               if isinstance(m.id, str) and "%" not in m.id and len(m.id.split()) >= 2
               and m.string != m.id]
    assert len(english) > 100
    c = _sign_in(sqlite_svc, "hq-admin", **{"Accept-Language": "fr", "Accept": "text/html"})
    for path in PAGES:
        resp = c.get(path)
        assert resp.status_code in (200, 404), resp.text[:500]
        assert '<html lang="fr">' in resp.text, path
        shown = [m.id for m in english if re.search(rf"(?<!\w){re.escape(m.id)}(?!\w)",
                                                    visible_text(resp.text))]
        assert not shown, f"{path}: English UI strings on a French page: {shown}"


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())
