from ninja import Router

router = Router(tags=["营业厅"])
