"""Text-intelligence operations: suggestions while the agent types, the audit's category check, the
suggestion-accuracy report, repeat/duplicate detection and the complaint-risk score."""
from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path

import yaml
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from gridcare.accounts.permissions import require, scoped

from . import classifier, rules
from .models import CategoryFlag, FlagStatus, RepeatCandidate, RepeatStatus, Suggestion

CONFIG_PATH = Path(__file__).resolve().parent / "data" / "intelligence.yaml"
SUB_FIELDS = ("category_l1", "category_l2", "fault_kind")


@lru_cache(maxsize=1)
def config() -> dict:
    with open(CONFIG_PATH, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


# ------------------------------------------------------------------------------ suggestions
def predict(text: str) -> classifier.Prediction:
    return classifier.get_classifier().predict_one(text)


def suggest(user, text: str, articles: int = 3) -> dict:
    """What the intake page shows as the agent types: type/category/fault kind with confidences, and the
    knowledge-base articles that answer the text."""
    require(user, "workorder.create")
    check = rules.check_text(text)
    if not check.usable:
        return {"problem": check.problem, "message": check.message, "prediction": None, "articles": [],
                "model_version": None}
    model = classifier.get_classifier()
    p = model.predict_one(text)
    found = []
    if articles:
        from gridcare.knowledge import search as kb

        found = [{"code": hit.code, "title": hit.title, "score": round(hit.score, 3), "url": hit.url}
                 for hit in kb.search(check.text, limit=articles, public_only=False)]
    return {"problem": check.problem, "message": check.message, "prediction": p.as_dict(), "articles": found,
            "model_version": model.meta["version"],
            "preselect": bool(p.confidence and p.confidence >= config()["classifier"]["suggest_min_confidence"])}


def _suggestion_fields(model, text: str, p: classifier.Prediction) -> dict:
    """A Suggestion's columns for the model's prediction `p` of `text`."""
    return {"text": text[:4000], "order_type": p.order_type or "", "category_l1": p.category_l1 or "",
            "category_l2": p.category_l2 or "", "fault_kind": p.fault_kind or "", "confidence": p.confidence,
            "confidences": p.confidences, "model_version": model.meta["version"]}


def record_suggestion(order, user=None) -> Suggestion:
    """Log the model's suggestion for an order (one order at a time; idempotent per order)."""
    model = classifier.get_classifier()
    values = {**_suggestion_fields(model, order.text, model.predict_one(order.text)),
              "user": user if getattr(user, "pk", None) else None}
    row, _ = Suggestion.objects.update_or_create(order=order, defaults=values)
    return row


def process_pending(batch: int = 500) -> dict:
    """The intelligence work for the orders taken since the last sweep (`PendingIntake`), one batch at a
    time: the classifier's suggestions in one vectorised call, then each order's repeat search, and the
    queue rows removed in the same transaction. Bounded per run; safe to run twice or on several workers
    at once (rows are claimed with SKIP LOCKED where the database has it)."""
    from .models import PendingIntake

    with transaction.atomic():
        qs = PendingIntake.objects.select_related("order", "order__customer", "order__transformer_area").order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        rows = list(qs[:batch])
        if not rows:
            return {"orders": 0, "repeats": 0}
        model = classifier.get_classifier()
        preds = model.predict([r.order.text for r in rows])
        Suggestion.objects.bulk_create([Suggestion(order=r.order, user_id=r.user_id,
                                                   **_suggestion_fields(model, r.order.text, p))
                                        for r, p in zip(rows, preds)], ignore_conflicts=True)
        repeats = sum(len(find_repeats(r.order)) for r in rows)
        PendingIntake.objects.filter(pk__in=[r.pk for r in rows]).delete()
    return {"orders": len(rows), "repeats": repeats}


def backfill_suggestions(orders_qs, batch: int = 2000) -> int:
    """Suggestions for orders that have none (bounded batch; safe to run twice)."""
    model = classifier.get_classifier()
    orders = list(orders_qs.filter(suggestion__isnull=True).only("pk", "text")[:batch])
    if not orders:
        return 0
    preds = model.predict([o.text for o in orders])
    Suggestion.objects.bulk_create([Suggestion(order=o, **_suggestion_fields(model, o.text, p))
                                    for o, p in zip(orders, preds)], batch_size=1000, ignore_conflicts=True)
    return len(orders)


def accuracy_report(user, since=None, until=None) -> dict:
    """How often the suggestion matched what the agents finally chose, per field and per order type,
    over the orders of the user's unit subtree."""
    require(user, "report.view")
    qs = scoped(Suggestion.objects.filter(order__isnull=False), user, "order__unit")
    if since:
        qs = qs.filter(order__accepted_at__gte=since)
    if until:
        qs = qs.filter(order__accepted_at__lt=until)
    rows = qs.values_list("order_type", "category_l2", "fault_kind", "confidence", "order__order_type",
                          "order__category_l2", "order__fault_kind")
    n = 0
    hits = {"order_type": 0, "category_l2": 0, "fault_kind": 0}
    support = {"order_type": 0, "category_l2": 0, "fault_kind": 0}
    by_type: dict[str, list[int]] = {}
    confident = [0, 0]
    threshold = config()["classifier"]["audit_flag_confidence"]
    for s_type, s_l2, s_fk, conf, o_type, o_l2, o_fk in rows.iterator():
        n += 1
        support["order_type"] += 1
        ok = s_type == o_type
        hits["order_type"] += ok
        by_type.setdefault(o_type, [0, 0])
        by_type[o_type][0] += 1
        by_type[o_type][1] += ok
        if o_type == "complaint":
            support["category_l2"] += 1
            hits["category_l2"] += s_l2 == o_l2
        if o_type == "fault_repair":
            support["fault_kind"] += 1
            hits["fault_kind"] += s_fk == o_fk
        if conf is not None and conf >= threshold:
            confident[0] += 1
            confident[1] += ok and (o_type != "complaint" or s_l2 == o_l2) and (o_type != "fault_repair" or s_fk == o_fk)
    acc = {k: (round(hits[k] / support[k], 4) if support[k] else None) for k in hits}
    return {"orders": n, "accuracy": acc, "support": support,
            "by_type": {t: {"orders": v[0], "accuracy": round(v[1] / v[0], 4)} for t, v in sorted(by_type.items())},
            "confident": {"threshold": threshold, "orders": confident[0],
                          "accuracy": round(confident[1] / confident[0], 4) if confident[0] else None}}


# ------------------------------------------------------------------------------ audit check
def disagreements(order, p: classifier.Prediction, threshold: float) -> list[tuple[str, str, str, float]]:
    """(field, chosen, predicted, confidence) where a confident prediction contradicts the order."""
    out = []
    conf = p.confidences or {}
    if p.order_type and p.order_type != order.order_type:
        if conf.get("order_type", 0) >= threshold:
            out.append(("order_type", order.order_type, p.order_type, conf["order_type"]))
        return out  # sub-levels of another type say nothing about this order's codes
    for field in ("category_l2", "fault_kind"):
        predicted = getattr(p, field)
        if predicted and predicted != getattr(order, field) and conf.get(field, 0) >= threshold:
            out.append((field, getattr(order, field), predicted, conf[field]))
    return out


def flag_on_audit(order, user=None) -> list[CategoryFlag]:
    """Called when an order is audited: flag each field whose chosen code disagrees with a confident
    prediction (one flag per order and field; an earlier flag is updated)."""
    model = classifier.get_classifier()
    p = model.predict_one(order.text)
    threshold = config()["classifier"]["audit_flag_confidence"]
    flags = []
    for field, chosen, predicted, conf in disagreements(order, p, threshold):
        flag, _ = CategoryFlag.objects.update_or_create(
            order=order, field=field, defaults={"chosen": chosen or "", "predicted": predicted, "confidence": conf,
                                                "model_version": model.meta["version"], "status": FlagStatus.OPEN})
        flags.append(flag)
    return flags


@transaction.atomic
def do_resolve_flag(user, flag_id: int, status: str) -> CategoryFlag:
    from gridcare.core.api_support import DomainError

    flag = CategoryFlag.objects.select_related("order__unit").select_for_update(of=("self",)) \
        if _supports_of() else CategoryFlag.objects.select_related("order__unit").select_for_update()
    flag = flag.get(pk=flag_id)
    require(user, "workorder.audit", flag.order.unit)
    if status not in (FlagStatus.CORRECTED, FlagStatus.DISMISSED):
        raise DomainError({"status": "状态应为 corrected（已改正）或 dismissed（维持原分类）"})
    flag.status = status
    flag.save()
    return flag


def _supports_of():
    return connection.features.has_select_for_update_of


# ------------------------------------------------------------------------------ repeats
def _vectors(texts):
    """L2-normalised character n-gram TF-IDF vectors (the classifier's, fitted on the corpus)."""
    model = classifier.get_classifier()
    return model.features.chars.transform([rules.check_text(t).text or "" for t in texts])


def similar_orders(text: str, customer=None, taiqu=None, at=None, exclude_pk=None, order_type: str = "",
                   code: str = "") -> list[dict]:
    """Earlier orders of the same customer or the same 台区, within the window, whose text is about the
    same problem. The function the intake can call before the order exists."""
    from gridcare.workorders.models import WorkOrder

    params = config()["repeats"]
    at = at or timezone.now()
    cond = Q()
    if customer is not None:
        cond |= Q(customer=customer)
    if taiqu is not None:
        cond |= Q(transformer_area=taiqu)
    if not cond:
        return []
    # only the columns the comparison and the candidates use (a 台区's recent orders can be many)
    qs = (WorkOrder.objects.filter(cond, accepted_at__gte=at - timedelta(days=params["window_days"]),
                                   accepted_at__lte=at).exclude(status="merged")
          .only("order_no", "text", "customer_id", "transformer_area_id", "order_type", "category_l2", "fault_kind",
                "status", "accepted_at").order_by("-accepted_at"))
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    earlier = list(qs[:200])
    if not earlier:
        return []
    vecs = _vectors([text] + [o.text for o in earlier])
    sims = (vecs[1:] @ vecs[0].T).toarray().ravel()
    out = []
    for o, sim in zip(earlier, sims):
        same_customer = customer is not None and o.customer_id == getattr(customer, "pk", None)
        same_code = bool(order_type) and o.order_type == order_type and (o.category_l2 or o.fault_kind or "") == code
        if rules.is_repeat(float(sim), same_customer, same_code, params):
            merge = same_customer and o.status == "open" and o.order_type == order_type
            out.append({"order": o, "order_no": o.order_no, "similarity": round(float(sim), 4),
                        "same_customer": same_customer,
                        "same_taiqu": taiqu is not None and o.transformer_area_id == getattr(taiqu, "pk", None),
                        "proposal": "merge" if merge else "link", "accepted_at": o.accepted_at,
                        "order_type": o.order_type, "status": o.status, "text": o.text[:120]})
    out.sort(key=lambda c: -c["similarity"])
    return out[: params["max_candidates"]]


def find_repeats(order, save: bool = True) -> list[RepeatCandidate]:
    """Repeat candidates for a stored order (the intake hook); saved as proposals."""
    found = similar_orders(order.text, customer=order.customer, taiqu=order.transformer_area,
                           at=order.accepted_at, exclude_pk=order.pk, order_type=order.order_type,
                           code=order.category_l2 or order.fault_kind or "")
    found = [c for c in found if c["accepted_at"] <= order.accepted_at]
    rows = []
    for c in found:
        if not save:
            rows.append(RepeatCandidate(order=order, earlier=c["order"], similarity=c["similarity"],
                                        same_customer=c["same_customer"], same_taiqu=c["same_taiqu"],
                                        proposal=c["proposal"]))
            continue
        row, _ = RepeatCandidate.objects.get_or_create(
            order=order, earlier=c["order"],
            defaults={"similarity": c["similarity"], "same_customer": c["same_customer"],
                      "same_taiqu": c["same_taiqu"], "proposal": c["proposal"]})
        rows.append(row)
    return rows


def repeat_counts(customer_ids, since, until=None) -> dict:
    """{customer_id: number of confirmed-or-proposed repeats} — for the sensitive-customer rules."""
    qs = RepeatCandidate.objects.filter(order__customer_id__in=list(customer_ids), same_customer=True,
                                        order__accepted_at__gte=since).exclude(status=RepeatStatus.DISMISSED)
    if until:
        qs = qs.filter(order__accepted_at__lt=until)
    return dict(qs.values_list("order__customer_id").annotate(n=Count("order_id", distinct=True)))


@transaction.atomic
def do_apply_repeat(user, candidate_id: int, action: str) -> RepeatCandidate:
    """Accept a proposal (link as repeat call or merge the duplicate) through the work-order services,
    or dismiss it."""
    from gridcare.core.api_support import DomainError
    from gridcare.workorders import services as wo

    cand = RepeatCandidate.objects.select_related("order__unit", "earlier").get(pk=candidate_id)
    require(user, "workorder.view", cand.order.unit)
    if cand.status != RepeatStatus.PROPOSED:
        raise DomainError({"action": "该建议已处理"})
    if action == "link":
        wo.do_link_repeat(user, cand.order.order_no, cand.earlier.order_no)
        cand.status = RepeatStatus.LINKED
    elif action == "merge":
        wo.do_merge(user, cand.order.order_no, cand.earlier.order_no)
        cand.status = RepeatStatus.MERGED
    elif action == "dismiss":
        cand.status = RepeatStatus.DISMISSED
    else:
        raise DomainError({"action": "操作应为 link / merge / dismiss"})
    cand.save()
    return cand


# ------------------------------------------------------------------------------ complaint risk
def risk_inputs(orders, now=None) -> dict:
    """{order pk: RiskInput} for a list of orders, in a fixed number of queries."""
    from gridcare.workorders.models import WorkOrder

    now = now or timezone.now()
    window = timedelta(days=config()["risk"]["window_days"])
    since = now - window
    orders = list(orders)
    cust_ids = {o.customer_id for o in orders if o.customer_id}
    taiqu_ids = {o.transformer_area_id for o in orders if o.transformer_area_id}
    calls = {}
    if cust_ids:
        for cid, at in WorkOrder.objects.filter(customer_id__in=cust_ids, accepted_at__gte=since - window) \
                .values_list("customer_id", "accepted_at"):
            calls.setdefault(cid, []).append(at)
    outages = {}
    if taiqu_ids:
        outage_q = Q(order_type="fault_repair", fault_kind="area_no_power") | Q(category_l2="frequent_outage")
        for tid, at in WorkOrder.objects.filter(outage_q, transformer_area_id__in=taiqu_ids,
                                                accepted_at__gte=since - window).values_list("transformer_area_id",
                                                                                             "accepted_at"):
            outages.setdefault(tid, []).append(at)
    sensitive = {}
    if cust_ids:
        from gridcare.customers.models import Customer

        for cid, flag, until in Customer.objects.filter(pk__in=cust_ids).values_list("pk", "sensitive",
                                                                                     "sensitive_until"):
            sensitive[cid] = bool(flag and (until is None or until > now))
    out = {}
    for o in orders:
        ref = o.accepted_at
        repeat = sum(1 for at in calls.get(o.customer_id, ()) if ref - window <= at < ref)
        taiqu = sum(1 for at in outages.get(o.transformer_area_id, ()) if ref - window <= at <= now)
        out[o.pk] = rules.RiskInput(
            repeat_calls=repeat, sensitive=sensitive.get(o.customer_id, False), taiqu_outages=taiqu,
            overdue_stages=1 if o.sla_state == 2 else 0, near_breach=o.sla_state == 1,
            negative_words=rules.negative_hits(o.text), urge_count=o.urge_count)
    return out


def annotate_risk(orders, now=None):
    """Set `complaint_risk` (score) and `complaint_risk_level` on each open non-complaint order of the
    list (others get None). Used by the queue pages; returns the list."""
    orders = list(orders)
    todo = [o for o in orders if o.order_type != "complaint" and o.status == "open"]
    cfg = config()["risk"]
    inputs = risk_inputs(todo, now) if todo else {}
    for o in orders:
        x = inputs.get(o.pk)
        o.complaint_risk = rules.risk_score(x, cfg["weights"]) if x else None
        o.complaint_risk_level = rules.risk_level(o.complaint_risk, cfg["thresholds"]) if x else None
    return orders


# ------------------------------------------------------------------------------ training data
def order_samples(since=None):
    """Labelled samples from the utility's own orders (imported history): text + final codes."""
    from gridcare.workorders.models import WorkOrder

    from .corpus import Sample

    qs = WorkOrder.objects.exclude(status="merged").exclude(text="")
    if since:
        qs = qs.filter(accepted_at__date__gte=since)
    out = []
    for t, text, l1, l2, fk in qs.order_by("pk").values_list("order_type", "text", "category_l1", "category_l2",
                                                            "fault_kind").iterator():
        if t == "complaint" and not l2:
            continue
        if t == "fault_repair" and not fk:
            continue
        out.append(Sample(text, t, l1 or "", l2 or "", fk or ""))
    return out


