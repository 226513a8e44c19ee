"""Exchange formats of the accounts app: units.csv and users.csv (formats.md)."""
import re

from django.contrib.auth.hashers import make_password

from gridcare.core.exports import Exporter, register_exporter
from gridcare.core.imports import Importer, parse_choice, register_importer
from .choices import Role, UnitKind
from .models import OrgUnit, User, phone_validator

UNIT_COLUMNS = ("code", "name", "kind", "parent_code")
UNIT_LABELS = {
    "code": "单位编码",
    "name": "单位名称",
    "kind": "单位类型：" + "、".join(f"{c} {label}" for c, label in UnitKind.choices),
    "parent_code": "上级单位编码（空 = 最上级；同一文件中上级须写在下级之前）",
}
USER_COLUMNS = ("username", "name", "role", "unit_code", "phone")
USER_LABELS = {
    "username": "用户名（登录账号）",
    "name": "姓名",
    "role": "角色：" + "、".join(f"{c} {label}" for c, label in Role.choices),
    "unit_code": "所属单位编码（仅系统管理员可为空）",
    "phone": "手机或固话",
}
_CODE_FORBIDDEN = re.compile(r"[/\s]")
_USERNAME = re.compile(r"^[\w.@+-]+\Z")  # Django's UnicodeUsernameValidator


def phone_error(value: str) -> str | None:
    if phone_validator.regex.match(value):
        return None
    return f"电话号码格式不正确：{value}（手机11位，或固话如0571-88888888）"


class UnitImporter(Importer):
    label = "组织单位"
    columns = UNIT_COLUMNS
    required_columns = ("code", "name", "kind")
    column_labels = UNIT_LABELS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.known: dict[str, OrgUnit] = {}      # code → unit, from the database or from good rows above
        self.first_row: dict[str, int] = {}      # code → first row of this file that named it
        self.rejected: set[str] = set()          # codes whose (first) row was rejected

    def prefetch(self, rows):
        codes = {r.text(c) for r in rows for c in ("code", "parent_code")} - set(self.known) - {""}
        if codes:
            self.known.update({u.code: u for u in OrgUnit.objects.filter(code__in=codes)})

    def validate_row(self, row):
        errors = []
        max_code = OrgUnit._meta.get_field("code").max_length
        code = self.text(row, "code", errors, max_length=max_code, required=True)
        if code:
            if _CODE_FORBIDDEN.search(code):
                errors.append(row.error("code", "单位编码不能包含“/”或空白字符"))
            elif code in self.first_row:
                errors.append(row.error("code", f"单位编码与第{self.first_row[code]}行重复"))
            elif code in self.known:
                errors.append(row.error("code", f"单位编码已存在：{code}（导入只新增，不修改已有单位）"))
        name = self.text(row, "name", errors, max_length=OrgUnit._meta.get_field("name").max_length, required=True)
        kind = self.parsed(row, "kind", parse_choice, errors, UnitKind.choices, required=True)
        parent = None
        parent_code = row.text("parent_code")
        if parent_code:
            if parent_code == code:
                errors.append(row.error("parent_code", "上级单位不能是本单位"))
            elif parent_code in self.known:
                parent = self.known[parent_code]
            elif parent_code in self.rejected:
                errors.append(row.error("parent_code",
                                        f"上级单位 {parent_code} 所在的第{self.first_row[parent_code]}行未通过校验"))
            else:
                errors.append(row.error("parent_code",
                                        f"上级单位不存在：{parent_code}（同一文件中的上级单位须写在下级之前）"))
        if code and code not in self.first_row:
            self.first_row[code] = row.number
        path = (parent.path if parent else "/") + code + "/"
        if code and len(path) > OrgUnit._meta.get_field("path").max_length:
            errors.append(row.error("parent_code", "单位层级过深（层级路径超长）"))
        if errors:
            if code and code not in self.known:
                self.rejected.add(code)
            return None, errors
        unit = OrgUnit(code=code, name=name, kind=kind, parent=parent, path=path)
        self.known[code] = unit
        return unit, []

    def write(self, valid):
        # A parent defined in this chunk must be stored before its children: write level by level.
        pending = list(valid)
        while pending:
            ready = [u for u in pending if u.parent is None or u.parent.pk is not None]
            if not ready:  # cannot happen: parents are always above their children
                raise RuntimeError("组织单位的上级关系有环")
            self.create(ready)
            pending = [u for u in pending if u.pk is None]


class UserImporter(Importer):
    label = "用户"
    columns = USER_COLUMNS
    required_columns = ("username", "name", "role", "unit_code")
    column_labels = USER_LABELS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        default_password = self.options.get("default_password")
        # One hash for the whole file: hashing per user would take minutes, and the users share the
        # password anyway (they are expected to change it at first sign-in).
        self.password_hash = make_password(default_password) if default_password else None
        self.units: dict[str, OrgUnit] = {}
        self.existing: set[str] = set()
        self.first_row: dict[str, int] = {}

    def prefetch(self, rows):
        usernames = {r.text("username") for r in rows} - {""}
        self.existing |= set(User.objects.filter(username__in=usernames).values_list("username", flat=True))
        codes = {r.text("unit_code") for r in rows} - set(self.units) - {""}
        if codes:
            self.units.update({u.code: u for u in OrgUnit.objects.filter(code__in=codes)})

    def validate_row(self, row):
        errors = []
        username = self.text(row, "username", errors, max_length=User._meta.get_field("username").max_length,
                             required=True)
        if username:
            if not _USERNAME.match(username):
                errors.append(row.error("username", "用户名只能包含字母、数字、汉字和 @ . + - _"))
            elif username in self.first_row:
                errors.append(row.error("username", f"用户名与第{self.first_row[username]}行重复"))
            elif username in self.existing:
                errors.append(row.error("username", f"用户名已存在：{username}（导入只新增，不修改已有用户）"))
            self.first_row.setdefault(username, row.number)
        name = self.text(row, "name", errors, max_length=User._meta.get_field("name").max_length)
        role = self.parsed(row, "role", parse_choice, errors, Role.choices, required=True)
        unit = None
        unit_code = row.text("unit_code")
        if unit_code:
            unit = self.units.get(unit_code)
            if unit is None:
                errors.append(row.error("unit_code", f"单位编码不存在：{unit_code}"))
        elif role and role != Role.ADMIN:
            errors.append(row.error("unit_code", "不能为空（仅系统管理员可以不属于任何单位）"))
        phone = row.text("phone")
        if phone and (message := phone_error(phone)):
            errors.append(row.error("phone", message))
        if errors:
            return None, errors
        user = User(username=username, name=name, role=role, unit=unit, phone=phone,
                    password=self.password_hash or make_password(None))
        return user, []

    def write(self, valid):
        self.create(valid)


class UnitExporter(Exporter):
    label = "组织单位"
    columns = UNIT_COLUMNS
    column_labels = UNIT_LABELS
    widths = {"code": 14, "name": 28, "kind": 16, "parent_code": 14}

    lookups = {"parent_code": "parent__code"}

    def queryset(self):
        # By path: every unit comes after its parent, so the file re-imports in one pass.
        return OrgUnit.objects.order_by("path")


class UserExporter(Exporter):
    label = "用户"
    columns = USER_COLUMNS
    column_labels = USER_LABELS
    widths = {"username": 16, "name": 14, "role": 12, "unit_code": 12, "phone": 16}

    lookups = {"unit_code": "unit__code"}

    def queryset(self):
        return User.objects.order_by("username")


register_importer("units", UnitImporter)
register_importer("users", UserImporter)
register_exporter("units", UnitExporter)
register_exporter("users", UserExporter)
