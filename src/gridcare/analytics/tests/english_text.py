"""What a reader sees of a page, to check that an English page has no Chinese left but data.

Collects the text of <main> (or of the whole fragment), the <title>, and the attributes a reader sees or
hears (placeholder, aria-label, title, alt); skips <script> and <style>. `leftover_han` removes the given
data values (names, addresses, labels that come from data) and returns the snippets where Han characters
remain: an untranslated template string shows up there.
"""
import re
from html.parser import HTMLParser

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
VISIBLE_ATTRS = ("placeholder", "aria-label", "title", "alt")


class _Visible(HTMLParser):
    def __init__(self, whole):
        super().__init__(convert_charrefs=True)
        self.depth_main = 1 if whole else 0
        self.skip = 0
        self.in_title = False
        self.parts = []

    def handle_starttag(self, tag, attrs):
        if tag == "main":
            self.depth_main += 1
        if tag in ("script", "style"):
            self.skip += 1
        if tag == "title":
            self.in_title = True
        if self.depth_main:
            self.parts.extend(v for k, v in attrs if k in VISIBLE_ATTRS and v)

    def handle_endtag(self, tag):
        if tag == "main":
            self.depth_main -= 1
        if tag in ("script", "style"):
            self.skip -= 1
        if tag == "title":
            self.in_title = False

    def handle_data(self, data):
        if (self.depth_main or self.in_title) and not self.skip:
            self.parts.append(data)


def visible_text(html: str, whole: bool = False) -> str:
    parser = _Visible(whole)
    parser.feed(html)
    return "\n".join(p.strip() for p in parser.parts if p.strip())


def leftover_han(html: str, data=(), whole: bool = False) -> list[str]:
    text = visible_text(html, whole)
    for value in sorted({str(d) for d in data if d}, key=len, reverse=True):
        text = text.replace(value, " ")
    return [line for line in text.splitlines() if HAN.search(line)]


def strings_in(obj, skip_keys=()):
    """Every string inside a nested dict/list (the data values of a report)."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if k not in skip_keys:
                yield from strings_in(v, skip_keys)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from strings_in(v, skip_keys)


def people_and_places() -> list[str]:
    """Names that are data in every language: units, users, customers (with their addresses)."""
    from gridcare.accounts.models import OrgUnit, User
    from gridcare.customers.models import Customer

    values = [u.name for u in OrgUnit.objects.all()] + [u.name for u in User.objects.all()]
    for c in Customer.objects.all():
        values += [c.name, c.address]
    return values


def client_for(user=None, english: bool = False):
    """A test client, logged in as `user` when given, asking for English with the language cookie."""
    from django.test import Client

    c = Client()
    if user is not None:
        c.force_login(user)
    if english:
        c.cookies["django_language"] = "en"
    return c


def check_both(user, url: str, zh: str, en: str, data=(), whole: bool = False) -> str:
    """The page in Chinese shows `zh`; in English it shows `en`, not `zh`, and no Chinese but `data`.
    Returns the English page."""
    r = client_for(user).get(url)
    assert r.status_code == 200, url
    assert zh in r.content.decode(), (url, zh)
    r = client_for(user, english=True).get(url)
    assert r.status_code == 200, url
    html = r.content.decode()
    assert en in html, (url, en)
    assert zh not in html, (url, zh)
    assert leftover_han(html, data, whole=whole) == [], url
    return html
