from ninja import Router

router = Router(tags=["智能分析"])
