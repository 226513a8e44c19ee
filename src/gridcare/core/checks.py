"""Deployment checks of `gridcare check --deploy` beyond Django's own: a production installation must not
run with the demo's secret key (every session and password-reset token could be forged with it)."""
from django.conf import settings
from django.core.checks import Warning, register


@register("security", deploy=True)
def demo_secret_key(app_configs, **kwargs):
    if settings.SECRET_KEY == getattr(settings, "DEMO_SECRET_KEY", None):
        return [Warning("仍在使用演示用的 SECRET_KEY：生产环境请设置 GRIDCARE_SECRET_KEY（50个以上随机字符）",
                        hint="例如：python -c \"import secrets; print(secrets.token_urlsafe(50))\"",
                        id="gridcare.W001")]
    return []
