"""The hall's fixed labels for the English catalogue: the default hall.yaml's service types, priorities,
ratings, inspection checklist and application kinds, and the choices of choices.py.

They reach the pages as data (from hall.yaml or a model's get_…_display()) and are translated where they
are shown (`{% translate t.label %}`): a label an administrator changes in hall.yaml simply shows as
written. Nothing here changes a model or a migration. Listed with gettext_noop so that the catalogue
holds them; keep in step with data/hall.yaml and choices.py.
"""
from django.utils.translation import gettext_noop

SHOWN_AS_DATA = (
    # hall.yaml: service_types
    gettext_noop("电费缴纳"), gettext_noop("业务办理"), gettext_noop("发票打印"), gettext_noop("业务咨询"),
    gettext_noop("意见投诉"),
    # hall.yaml: priorities
    gettext_noop("预约客户"), gettext_noop("老年人"), gettext_noop("残疾人"), gettext_noop("孕妇"), gettext_noop("转办"),
    # hall.yaml: rating_labels
    gettext_noop("非常满意"), gettext_noop("满意"), gettext_noop("一般"), gettext_noop("不满意"), gettext_noop("非常不满意"),
    # hall.yaml: inspection_checklist
    gettext_noop("着装规范（统一工装、佩戴工号牌）"), gettext_noop("服务礼仪（起身迎候、微笑服务）"),
    gettext_noop("规范用语（首问负责、文明用语）"), gettext_noop("业务差错（收费、开票、资料录入无差错）"),
    gettext_noop("台席整洁、公示资料齐全"),
    # hall.yaml: applications (also choices.ApplicationKind)
    gettext_noop("低压新装（业扩报装）"), gettext_noop("增容"), gettext_noop("更名过户"), gettext_noop("电能表校验"),
    # choices.TicketStatus
    gettext_noop("等候中"), gettext_noop("办理中"), gettext_noop("已办结"), gettext_noop("过号"), gettext_noop("未办理离开"),
    # choices.AppointmentStatus
    gettext_noop("已预约"), gettext_noop("已取号"), gettext_noop("已取消"), gettext_noop("未到"),
    # choices.RecordKind
    gettext_noop("培训"), gettext_noop("证书"),
)
