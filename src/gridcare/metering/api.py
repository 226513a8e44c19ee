from ninja import Router

router = Router(tags=["抄表计量"])
