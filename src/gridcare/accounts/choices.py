from django.db import models


class UnitKind(models.TextChoices):
    PROVINCE = "province", "省公司"
    CITY = "city", "市公司"
    COUNTY = "county", "县公司"
    STATION = "station", "供电所"
    HALL = "hall", "营业厅"
    TEAM = "team", "班组"
    SERVICE_CENTER = "service_center", "供电服务中心"


class Role(models.TextChoices):
    AGENT = "agent", "坐席"
    DISPATCHER = "dispatcher", "服务调度"
    HANDLER = "handler", "处理人员"
    FIELD = "field", "抢修/装表人员"
    CLERK = "clerk", "营业员"
    READER = "reader", "抄表催费员"
    SUPERVISOR = "supervisor", "管理人员"
    ADMIN = "admin", "系统管理员"
