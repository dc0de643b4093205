"""The web client's files, read as files: translations complete in all
three languages, every string the scripts ask for translated, no way for
data to become HTML, nothing inline for the CSP to refuse."""
import json
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.once     # the web client's files alone

WEB = Path(__file__).resolve().parents[2] / "web"
LANGS = ("az", "en", "ru")
SCRIPTS = sorted((WEB / "js").rglob("*.js"))


def strings(lang):
    return json.loads((WEB / "i18n" / ("%s.json" % lang)).read_text(encoding="utf-8"))


@pytest.mark.parametrize("lang", ["az", "ru"])
def test_every_language_has_every_string(lang):
    en, other = strings("en"), strings(lang)
    assert sorted(set(en) - set(other)) == [], "missing in %s.json" % lang
    assert sorted(set(other) - set(en)) == [], "only in %s.json" % lang
    for key, text in other.items():
        assert text.strip(), (lang, key)
        # The same placeholders, so no sentence loses its number or name.
        assert sorted(re.findall(r"\{\w+\}", text)) == sorted(re.findall(r"\{\w+\}", en[key])), key


def test_every_string_the_scripts_use_is_translated():
    en = strings("en")
    used = set()
    for f in SCRIPTS:
        used |= set(re.findall(r"\bt\('([a-z_]+\.[a-z_.]+|[a-z_]+)'", f.read_text(encoding="utf-8")))
    html = (WEB / "index.html").read_text(encoding="utf-8")
    used |= set(re.findall(r'data-i18n(?:-label)?="([^"]+)"', html))
    assert used, "no t('...') found: the pattern is out of date"
    # 'day.mark.' + status: a prefix, checked by the browser tests.
    assert sorted(k for k in used if k not in en and not k.endswith('.')) == []


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_no_script_turns_data_into_html(path):
    text = path.read_text(encoding="utf-8")
    for bad in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                "new Function", "localStorage.setItem('korpu.token"):
        assert bad not in text, "%s uses %s" % (path.name, bad)
    assert "sessionStorage" not in text
    for m in re.finditer(r"localStorage\.setItem\(([^,]+),", text):
        assert m.group(1) == "STORE", "only the language choice is stored: %s" % m.group(0)


def test_the_page_has_nothing_inline():
    html = (WEB / "index.html").read_text(encoding="utf-8")
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html), "inline event handlers"


def test_the_first_screen_is_under_200_kb():
    """Everything the first screen can load (page, styles, every script,
    the largest translation): the browser test measures the wire."""
    files = [WEB / "index.html", WEB / "app.css"] + SCRIPTS
    total = sum(f.stat().st_size for f in files)
    total += max((WEB / "i18n" / ("%s.json" % l)).stat().st_size for l in LANGS)
    total += (WEB / "i18n" / "en.json").stat().st_size       # the fallback
    assert total < 200 * 1024, total
