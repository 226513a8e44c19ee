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
