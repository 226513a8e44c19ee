from ninja import Router

router = Router(tags=["知识库"])
