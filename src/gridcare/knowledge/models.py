"""Knowledge-base articles: policies, tariffs, procedures, outage explanations, standard replies.

An article is identified by `code`; each revision is a new row (`version` 1, 2, …) with its own validity
dates, so what an agent read on a given day can be shown again. The current text of a code is the highest
published version valid today."""
from django.conf import settings
from django.db import models

from gridcare.core.audit import AuditedModel


class ArticleKind(models.TextChoices):
    POLICY = "policy", "政策法规"
    TARIFF = "tariff", "电价电费"
    PROCEDURE = "procedure", "业务办理"
    OUTAGE = "outage", "停电说明"
    REPLY = "reply", "标准答复"
    FAQ = "faq", "常见问题"


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"
    RETIRED = "retired", "已废止"


class Article(AuditedModel):
    code = models.SlugField("编号", max_length=60)
    version = models.PositiveIntegerField("版本", default=1)
    title = models.CharField("标题", max_length=200)
    kind = models.CharField("类别", max_length=12, choices=ArticleKind.choices)
    category = models.CharField("业务分类", max_length=40, blank=True,
                                help_text="相关的工单分类代码（taxonomy.yaml），如 billing、frequent_outage")
    keywords = models.CharField("关键词", max_length=300, blank=True)
    body = models.TextField("正文")
    sources = models.TextField("依据与来源", blank=True)
    public = models.BooleanField("对客户公开（自助问答）", default=False)
    status = models.CharField("状态", max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.PUBLISHED)
    valid_from = models.DateField("生效日期")
    valid_to = models.DateField("失效日期", null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name="编辑人")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "知识库文章"
        ordering = ["code", "-version"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="kb_code_version")]
        indexes = [models.Index(fields=["status", "valid_from"])]

    def __str__(self):
        return f"{self.title}（v{self.version}）"
