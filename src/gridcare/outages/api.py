from ninja import Router

router = Router(tags=["停电管理"])
