from datetime import datetime

from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema

from gridcare.accounts.permissions import require
from gridcare.core.api_support import DomainError
from gridcare.workorders import services as wo

from . import rules, services
from .models import CategoryFlag, RepeatCandidate

router = Router(tags=["智能分析"])


class SuggestQuery(Schema):
    text: str = ""
    articles: int = 3


@router.get("/suggest", summary="受理时的分类与知识建议（边输入边调用）")
def suggest(request, params: Query[SuggestQuery]):
    return services.suggest(request.auth, params.text, articles=max(0, min(params.articles, 10)))


class ClassifyIn(Schema):
    texts: list[str]


@router.post("/classify", summary="批量分类（与 gridcare classify 相同的字段）")
def classify(request, payload: ClassifyIn):
    require(request.auth, "workorder.view")
    if len(payload.texts) > 5000:
        raise DomainError({"texts": "一次最多5000条"})
    from . import classifier

    model = classifier.get_classifier()
    out = []
    for text, p in zip(payload.texts, model.predict(payload.texts)):
        check = rules.check_text(text)
        out.append({**{k: getattr(p, k) for k in ("order_type", "category_l1", "category_l2", "fault_kind",
                                                 "confidence")}, "problem": check.problem or None})
    return {"model_version": model.meta["version"], "results": out}


class SimilarQuery(Schema):
    text: str
    account_no: str | None = None
    taiqu_code: str | None = None
    order_type: str = ""
    code: str = ""


def _candidate(c):
    return {"order_no": c["order_no"], "similarity": c["similarity"], "same_customer": c["same_customer"],
            "same_taiqu": c["same_taiqu"], "proposal": c["proposal"], "accepted_at": c["accepted_at"],
            "order_type": c["order_type"], "status": c["status"], "text": c["text"]}


@router.get("/similar", summary="受理前：同一客户或同一台区近期的同类工单")
def similar(request, params: Query[SimilarQuery]):
    require(request.auth, "workorder.create")
    from gridcare.accounts.permissions import in_scope
    from gridcare.customers.models import Customer
    from gridcare.grid.models import TransformerArea

    customer = taiqu = None
    if params.account_no:
        customer = Customer.objects.select_related("transformer_area", "unit").filter(account_no=params.account_no).first()
        if customer is None:
            raise DomainError({"account_no": "户号不存在"})
        if not in_scope(request.auth, customer.unit):
            raise DomainError({"account_no": "该客户不在您的管辖范围内"}, status=403)
        taiqu = customer.transformer_area
    if params.taiqu_code:
        taiqu = TransformerArea.objects.select_related("unit").filter(code=params.taiqu_code).first()
        if taiqu is None:
            raise DomainError({"taiqu_code": "台区编码不存在"})
    if customer is None and taiqu is None:
        raise DomainError({"account_no": "请给出户号或台区编码"})
    found = services.similar_orders(params.text, customer=customer, taiqu=taiqu, order_type=params.order_type,
                                    code=params.code)
    return {"candidates": [_candidate(c) for c in found]}


def _repeat_out(r):
    return {"id": r.pk, "order_no": r.order.order_no, "earlier": r.earlier.order_no, "similarity": r.similarity,
            "same_customer": r.same_customer, "same_taiqu": r.same_taiqu, "proposal": r.proposal,
            "status": r.status}


@router.get("/orders/{order_no}/repeats", summary="工单的疑似重复来电/重复工单（生成合并或关联建议）")
def order_repeats(request, order_no: str):
    order = wo.get_order(request.auth, order_no)
    rows = services.find_repeats(order)
    for r in rows:
        r.order = order
    return {"candidates": [_repeat_out(r) for r in
                           RepeatCandidate.objects.filter(pk__in=[r.pk for r in rows]).select_related("order", "earlier")]}


class ApplyIn(Schema):
    action: str


@router.post("/repeats/{candidate_id}", summary="采纳（link/merge）或驳回（dismiss）重复建议")
def apply_repeat(request, candidate_id: int, payload: ApplyIn):
    get_object_or_404(RepeatCandidate, pk=candidate_id)
    r = services.do_apply_repeat(request.auth, candidate_id, payload.action)
    return _repeat_out(r)


@router.get("/orders/{order_no}/risk", summary="工单的投诉风险分")
def order_risk(request, order_no: str):
    order = wo.get_order(request.auth, order_no)
    if order.order_type == "complaint" or order.status != "open":
        return {"order_no": order_no, "score": None, "level": None, "factors": None}
    x = services.risk_inputs([order])[order.pk]
    cfg = services.config()["risk"]
    score = rules.risk_score(x, cfg["weights"])
    return {"order_no": order_no, "score": score, "level": rules.risk_level(score, cfg["thresholds"]),
            "factors": x.__dict__}


@router.get("/orders/{order_no}/flags", summary="审核时的分类存疑标记")
def order_flags(request, order_no: str):
    order = wo.get_order(request.auth, order_no)
    return [{"id": f.pk, "field": f.field, "chosen": f.chosen, "predicted": f.predicted, "confidence": f.confidence,
             "status": f.status, "model_version": f.model_version} for f in order.category_flags.all()]


class FlagIn(Schema):
    status: str


@router.post("/flags/{flag_id}", summary="确认分类存疑标记（corrected / dismissed）")
def resolve_flag(request, flag_id: int, payload: FlagIn):
    get_object_or_404(CategoryFlag, pk=flag_id)
    f = services.do_resolve_flag(request.auth, flag_id, payload.status)
    return {"id": f.pk, "status": f.status}


class AccuracyQuery(Schema):
    since: datetime | None = None
    until: datetime | None = None


@router.get("/accuracy", summary="分类建议与坐席最终选择的一致率")
def accuracy(request, params: Query[AccuracyQuery]):
    return services.accuracy_report(request.auth, params.since, params.until)
