"""Demo-data step 60: make sure the classifier model exists (built from the project corpus in a few
seconds), log suggestions for the demo orders, flag audited orders whose category disagrees with a
confident prediction, and propose repeats for the most recent orders."""
from datetime import timedelta

from gridcare.core.demo import register_step


@register_step(60, "intelligence")
def build_intelligence(ctx):
    from gridcare.workorders.models import WorkOrder

    from . import classifier, services
    from .models import CategoryFlag

    model = classifier.get_classifier()
    n = 0
    while True:
        done = services.backfill_suggestions(WorkOrder.objects.order_by("pk"), batch=5000)
        n += done
        if not done:
            break
    threshold = services.config()["classifier"]["audit_flag_confidence"]
    audited = list(WorkOrder.objects.filter(events__to_stage="audited").distinct().only(
        "pk", "text", "order_type", "category_l2", "fault_kind"))
    flags = []
    for o, p in zip(audited, model.predict([o.text for o in audited])):
        for field, chosen, predicted, conf in services.disagreements(o, p, threshold):
            flags.append(CategoryFlag(order=o, field=field, chosen=chosen or "", predicted=predicted, confidence=conf,
                                      model_version=model.meta["version"]))
    CategoryFlag.objects.bulk_create(flags, batch_size=1000, ignore_conflicts=True)
    recent = WorkOrder.objects.filter(accepted_at__gte=ctx.today - timedelta(days=14)).select_related(
        "customer", "transformer_area").order_by("-accepted_at")[:300]
    repeats = sum(len(services.find_repeats(o)) for o in recent)
    return f"model {model.meta['version']}, {n} suggestions, {len(flags)} category flags, {repeats} repeat proposals"
