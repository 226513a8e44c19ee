"""The REST API under /api/ (OpenAPI docs at /api/docs). Each domain app contributes a router."""
from ninja import NinjaAPI

from gridcare.core.api_support import LocalTimeJSONRenderer, api_auth, install_error_handlers

api = NinjaAPI(
    title="GridCare API",
    version="1",
    description="GridCare 供电服务指挥平台 REST API。机器客户端使用 `Authorization: Bearer <token>`（POST /api/auth/token 获取）。",
    auth=api_auth,
    urls_namespace="api",
    renderer=LocalTimeJSONRenderer(),
)
install_error_handlers(api)

from gridcare.accounts.api import router as accounts_router  # noqa: E402
from gridcare.core.api import router as core_router  # noqa: E402
from gridcare.customers.api import router as customers_router  # noqa: E402
from gridcare.grid.api import router as grid_router  # noqa: E402

api.add_router("/", accounts_router)
api.add_router("/customers", customers_router)
api.add_router("/grid", grid_router)
api.add_router("/audit", core_router)



from gridcare.workorders.api import router as workorders_router  # noqa: E402

api.add_router("/workorders", workorders_router)

from gridcare.analytics.api import router as analytics_router  # noqa: E402
from gridcare.billing.api import router as billing_router  # noqa: E402
from gridcare.hall.api import router as hall_router  # noqa: E402
from gridcare.intelligence.api import router as intelligence_router  # noqa: E402
from gridcare.knowledge.api import router as knowledge_router  # noqa: E402
from gridcare.metering.api import router as metering_router  # noqa: E402
from gridcare.outages.api import router as outages_router  # noqa: E402

api.add_router("/outages", outages_router)
api.add_router("/analytics", analytics_router)
api.add_router("/knowledge", knowledge_router)
api.add_router("/intelligence", intelligence_router)
api.add_router("/metering", metering_router)
api.add_router("/billing", billing_router)
api.add_router("/hall", hall_router)
