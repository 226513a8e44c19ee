from ninja import Router

router = Router(tags=["电费账务"])
