from datetime import date

from django.http import Http404
from ninja import Query, Router, Schema

from gridcare.accounts.permissions import require

from . import search as kb
from . import services

router = Router(tags=["知识库"])


class HitOut(Schema):
    code: str
    version: int
    title: str
    kind: str
    score: float
    public: bool
    snippet: str
    url: str


class ArticleOut(Schema):
    code: str
    version: int
    title: str
    kind: str
    category: str
    keywords: str
    body: str
    sources: str
    public: bool
    valid_from: date
    valid_to: date | None


class ArticleIn(Schema):
    title: str
    kind: str
    body: str
    category: str = ""
    keywords: str = ""
    sources: str = ""
    public: bool = False
    valid_from: date | None = None
    valid_to: date | None = None


class SearchQuery(Schema):
    q: str
    limit: int = 10
    public_only: bool = False


@router.get("/search", response=list[HitOut], summary="知识库全文检索（BM25）")
def search(request, params: Query[SearchQuery]):
    require(request.auth, "knowledge.view")
    hits = kb.search(params.q, limit=max(1, min(params.limit, 50)), public_only=params.public_only)
    return [{**h.__dict__, "url": h.url} for h in hits]


@router.get("/articles/{code}", response=ArticleOut, summary="文章现行版本")
def get_article(request, code: str):
    require(request.auth, "knowledge.view")
    a = services.current(code)
    if a is None:
        raise Http404("文章不存在或已失效")
    return a


@router.post("/articles/{code}", response={201: ArticleOut}, summary="发布文章或新版本")
def publish(request, code: str, payload: ArticleIn):
    return 201, services.do_publish(request.auth, code, payload.dict())
