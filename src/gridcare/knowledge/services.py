"""Knowledge-base operations: publish a new article or a new version of one (with validity dates), and
the suggestions for an order's text."""
from datetime import date
from pathlib import Path

import yaml
from django.db import transaction
from django.utils import timezone

from gridcare.accounts.permissions import require
from gridcare.core.api_support import DomainError

from . import search
from .models import Article, ArticleKind, ArticleStatus

SEED_PATH = Path(__file__).resolve().parent / "data" / "articles.yaml"
FIELDS = ("title", "kind", "category", "keywords", "body", "sources", "public")


def check_article(data: dict) -> dict:
    errors = {}
    if not (data.get("title") or "").strip():
        errors["title"] = "标题不能为空"
    if not (data.get("body") or "").strip():
        errors["body"] = "正文不能为空"
    if data.get("kind") not in ArticleKind.values:
        errors["kind"] = "类别应为 " + " / ".join(ArticleKind.values)
    vf, vt = data.get("valid_from"), data.get("valid_to")
    if vf and vt and vt <= vf:
        errors["valid_to"] = "失效日期应晚于生效日期"
    if errors:
        raise DomainError(errors)
    return data


@transaction.atomic
def do_publish(user, code: str, data: dict) -> Article:
    """Publish `code`: version 1, or the next version (the previous one then ends the day before the new
    one starts, so exactly one version is valid on each day)."""
    require(user, "knowledge.edit")
    check_article(data)
    if not code or not code.replace("-", "").replace("_", "").isalnum():
        raise DomainError({"code": "编号只能包含字母、数字、-和_"})
    valid_from = data.get("valid_from") or timezone.localdate()
    previous = Article.objects.select_for_update().filter(code=code).order_by("-version").first()
    if previous is not None:
        if previous.valid_from >= valid_from:
            raise DomainError({"valid_from": f"新版本的生效日期应晚于上一版本（{previous.valid_from}）"})
        if previous.valid_to is None or previous.valid_to > valid_from:
            previous.valid_to = valid_from
            previous.save()
    article = Article(code=code, version=(previous.version + 1) if previous else 1,
                      valid_from=valid_from, valid_to=data.get("valid_to"), status=ArticleStatus.PUBLISHED,
                      created_by=user if getattr(user, "pk", None) else None,
                      **{f: data.get(f, "" if f != "public" else False) or ("" if f != "public" else False)
                         for f in FIELDS})
    article.save()
    return article


def current(code: str, today=None) -> Article | None:
    today = today or timezone.localdate()
    for a in Article.objects.filter(code=code, status=ArticleStatus.PUBLISHED, valid_from__lte=today).order_by("-version"):
        if a.valid_to is None or a.valid_to > today:
            return a
    return None


def suggested_for_text(text: str, limit: int = 3, public_only: bool = False):
    return search.search(text, limit=limit, public_only=public_only)


def seed_rows() -> list[dict]:
    with open(SEED_PATH, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def seed(article_model=Article, valid_from=date(2024, 6, 1)) -> int:
    """Create the seed articles that do not exist yet (version 1, valid from the 2024 rules' start)."""
    made = 0
    for row in seed_rows():
        if article_model.objects.filter(code=row["code"]).exists():
            continue
        article_model.objects.create(code=row["code"], version=1, valid_from=valid_from, status="published",
                                     **{f: row.get(f) or ("" if f != "public" else False) for f in FIELDS})
        made += 1
    return made


def public_faq(limit: int = 10) -> list[dict]:
    """The customers' self-service answers (the public FAQ page's listing, /knowledge/faq/): the current
    version of each public article, by kind then code; [{"q": title, "a": body, "code", "kind"}...]."""
    articles = sorted((a for a in search.current_articles() if a.public), key=lambda a: (a.kind, a.code))
    return [{"q": a.title.strip(), "a": a.body.strip(), "code": a.code, "kind": a.kind} for a in articles[:max(0, limit)]]
