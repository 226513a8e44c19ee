from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from gridcare.accounts.permissions import require

from . import search as kb
from . import services
from .models import Article, ArticleKind


@login_required
def search_page(request):
    """The agents' knowledge search (reserved navigation name knowledge:search)."""
    require(request.user, "knowledge.view")
    q = request.GET.get("q", "").strip()
    hits = kb.search(q, limit=20) if q else []
    latest = [] if q else sorted(kb.current_articles(), key=lambda a: (a.kind, a.code))
    return render(request, "knowledge/search.html", {"q": q, "hits": hits, "latest": latest,
                                                     "kinds": dict(ArticleKind.choices)})


@login_required
def article(request, code):
    require(request.user, "knowledge.view")
    current = services.current(code)
    versions = list(Article.objects.filter(code=code).order_by("-version"))
    if not versions:
        raise Http404("文章不存在")
    shown = current or versions[0]
    v = request.GET.get("v")
    if v and v.isdigit():
        shown = next((a for a in versions if a.version == int(v)), shown)
    return render(request, "knowledge/article.html", {"a": shown, "versions": versions, "current": current})


def faq(request):
    """Self-service questions and answers for customers: public articles only, no login."""
    q = request.GET.get("q", "").strip()
    hits = kb.search(q, limit=10, public_only=True) if q else []
    articles = {a.code: a for a in kb.current_articles() if a.public}
    found = [articles[h.code] for h in hits if h.code in articles]
    listing = [] if q else sorted(articles.values(), key=lambda a: (a.kind, a.code))
    return render(request, "knowledge/faq.html", {"q": q, "found": found, "listing": listing})
