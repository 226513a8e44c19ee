"""Demo data: build the reporting store from the demo's work orders (after step 40), so that the report
pages show the demo year at once instead of after the task queue's first refresh."""
from gridcare.core.demo import register_step


@register_step(95, "analytics")
def build_facts(ctx):
    from . import facts

    result = facts.refresh()
    return f"统计数据：{result['orders']} 张工单"
