"""Exchange format of the grid app: grid.csv, one row per transformer area (台区) with its feeder and
substation (formats.md). Substations and feeders are created the first time their code appears (in the
database or above in the file) and reused after that; a new one belongs to the row's unit."""
from gridcare.accounts.models import OrgUnit, User
from gridcare.core.exports import Exporter, register_exporter
from gridcare.core.imports import Importer, parse_choice, parse_int, register_importer
from gridcare.core.taxonomy import area_kind_choices

from .models import Feeder, Substation, TransformerArea

GRID_COLUMNS = ("substation_code", "substation_name", "feeder_code", "feeder_name", "taiqu_code", "taiqu_name",
                "unit_code", "area_kind", "manager_username", "capacity_kva")
GRID_LABELS = {
    "substation_code": "变电站编码",
    "substation_name": "变电站名称（新变电站必填）",
    "feeder_code": "10kV线路编码",
    "feeder_name": "线路名称（新线路必填）",
    "taiqu_code": "台区编码",
    "taiqu_name": "台区名称",
    "unit_code": "供电单位编码（新建的变电站、线路也归属该单位）",
    "area_kind": "区域类型：" + "、".join(f"{c} {label}" for c, label in area_kind_choices()),
    "manager_username": "台区经理用户名",
    "capacity_kva": "容量（kVA，整数）",
}
MAX_CAPACITY = 2_147_483_647  # PositiveIntegerField


def _max(model, name):
    return model._meta.get_field(name).max_length


class GridImporter(Importer):
    label = "台区"
    columns = GRID_COLUMNS
    required_columns = ("substation_code", "substation_name", "feeder_code", "feeder_name", "taiqu_code",
                        "taiqu_name", "unit_code", "area_kind")
    column_labels = GRID_LABELS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.units: dict[str, OrgUnit] = {}
        self.managers: dict[str, int] = {}
        self.substations: dict[str, Substation] = {}  # from the database or good rows above
        self.feeders: dict[str, Feeder] = {}
        self.existing_taiqus: set[str] = set()
        self.first_row: dict[str, int] = {}

    def prefetch(self, rows):
        def wanted(column, known=()):
            return {r.text(column) for r in rows} - set(known) - {""}

        if codes := wanted("unit_code", self.units):
            self.units.update({u.code: u for u in OrgUnit.objects.filter(code__in=codes)})
        if names := wanted("manager_username", self.managers):
            self.managers.update(User.objects.filter(username__in=names).values_list("username", "id"))
        if codes := wanted("substation_code", self.substations):
            self.substations.update({s.code: s for s in Substation.objects.filter(code__in=codes)})
        if codes := wanted("feeder_code", self.feeders):
            self.feeders.update({f.code: f for f in Feeder.objects.select_related("substation").filter(code__in=codes)})
        if codes := wanted("taiqu_code"):
            self.existing_taiqus |= set(TransformerArea.objects.filter(code__in=codes).values_list("code", flat=True))

    def validate_row(self, row):
        errors = []
        code = self.text(row, "taiqu_code", errors, max_length=_max(TransformerArea, "code"), required=True)
        if code:
            if code in self.first_row:
                errors.append(row.error("taiqu_code", f"台区编码与第{self.first_row[code]}行重复"))
            elif code in self.existing_taiqus:
                errors.append(row.error("taiqu_code", f"台区编码已存在：{code}（导入只新增，不修改已有台区）"))
            self.first_row.setdefault(code, row.number)
        name = self.text(row, "taiqu_name", errors, max_length=_max(TransformerArea, "name"), required=True)
        unit = None
        if unit_code := self.text(row, "unit_code", errors, required=True):
            unit = self.units.get(unit_code)
            if unit is None:
                errors.append(row.error("unit_code", f"单位编码不存在：{unit_code}"))
        area_kind = self.parsed(row, "area_kind", parse_choice, errors, area_kind_choices(), required=True)
        manager_id = None
        if username := row.text("manager_username"):
            manager_id = self.managers.get(username)
            if manager_id is None:
                errors.append(row.error("manager_username", f"用户不存在：{username}"))
        capacity = self.parsed(row, "capacity_kva", parse_int, errors, 1, MAX_CAPACITY)

        substation, new_substation = self._substation(row, unit, errors)
        feeder, new_feeder = self._feeder(row, substation, unit, errors)
        if errors:
            return None, errors
        if new_substation:
            self.substations[new_substation.code] = new_substation
        if new_feeder:
            self.feeders[new_feeder.code] = new_feeder
        taiqu = TransformerArea(code=code, name=name, feeder=feeder, unit=unit, area_kind=area_kind,
                                manager_id=manager_id, capacity_kva=capacity)
        return (new_substation, new_feeder, taiqu), []

    def _substation(self, row, unit, errors):
        code = self.text(row, "substation_code", errors, max_length=_max(Substation, "code"), required=True)
        name = self.text(row, "substation_name", errors, max_length=_max(Substation, "name"))
        if not code:
            return None, None
        existing = self.substations.get(code)
        if existing is not None:
            if name and name != existing.name:
                errors.append(row.error("substation_name",
                                        f"变电站 {code} 已存在，名称为“{existing.name}”，与本行不一致"))
            return existing, None
        if not name:
            errors.append(row.error("substation_name", f"变电站 {code} 尚不存在，新建须填写名称"))
            return None, None
        if unit is None:
            return None, None
        new = Substation(code=code, name=name, unit=unit)
        return new, new

    def _feeder(self, row, substation, unit, errors):
        code = self.text(row, "feeder_code", errors, max_length=_max(Feeder, "code"), required=True)
        name = self.text(row, "feeder_name", errors, max_length=_max(Feeder, "name"))
        if not code:
            return None, None
        existing = self.feeders.get(code)
        if existing is not None:
            if name and name != existing.name:
                errors.append(row.error("feeder_name", f"线路 {code} 已存在，名称为“{existing.name}”，与本行不一致"))
            sub_code = row.text("substation_code")
            if sub_code and existing.substation.code != sub_code:
                errors.append(row.error("feeder_code", f"线路 {code} 属于变电站 {existing.substation.code}，"
                                                       f"与本行的变电站 {sub_code} 不一致"))
            return existing, None
        if not name:
            errors.append(row.error("feeder_name", f"线路 {code} 尚不存在，新建须填写名称"))
            return None, None
        if substation is None or unit is None:
            return None, None
        new = Feeder(code=code, name=name, substation=substation, unit=unit)
        return new, new

    def write(self, valid):
        # Parents first: bulk_create takes the primary keys they were just given.
        self.create([sub for sub, _, _ in valid if sub is not None])
        self.create([feeder for _, feeder, _ in valid if feeder is not None])
        self.create([taiqu for _, _, taiqu in valid])


class GridExporter(Exporter):
    label = "台区"
    columns = GRID_COLUMNS
    column_labels = GRID_LABELS
    widths = {"substation_name": 24, "feeder_name": 20, "taiqu_name": 24, "manager_username": 16}

    lookups = {"substation_code": "feeder__substation__code", "substation_name": "feeder__substation__name",
               "feeder_code": "feeder__code", "feeder_name": "feeder__name", "taiqu_code": "code",
               "taiqu_name": "name", "unit_code": "unit__code", "manager_username": "manager__username"}

    def queryset(self):
        return TransformerArea.objects.order_by("feeder__substation__code", "feeder__code", "code")


register_importer("grid", GridImporter)
register_exporter("grid", GridExporter)
