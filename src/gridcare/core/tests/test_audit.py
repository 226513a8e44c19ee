from gridcare.core.audit import audit_context
from gridcare.core.models import AuditLog


def test_create_update_delete_are_attributed(world):
    from gridcare.grid.models import TransformerArea

    with audit_context(world.supervisor_county, "web"):
        t = TransformerArea.objects.create(code="TQX", name="新台区", feeder=world.feeder1, unit=world.station_a,
                                           area_kind="urban")
        t = TransformerArea.objects.get(pk=t.pk)
        t.capacity_kva = 630
        t.save()
        t.delete()
    logs = list(AuditLog.objects.filter(object_repr__contains="TQX").order_by("id"))
    assert [log.action for log in logs] == ["create", "update", "delete"]
    assert all(log.actor_username == "sup_county" and log.source == "web" for log in logs)
    assert logs[1].changes == {"capacity_kva": [None, 630]}
    assert logs[2].changes["code"] == ["TQX", None]


def test_unchanged_save_writes_no_entry(world):
    before = AuditLog.objects.count()
    c = type(world.cust_a).objects.get(pk=world.cust_a.pk)
    c.save()
    assert AuditLog.objects.count() == before


def test_password_is_never_in_the_trail(world):
    world.agent.set_password("another-secret-1")
    world.agent.save()
    assert not AuditLog.objects.filter(changes__has_key="password").exists()


def test_a_json_value_changed_in_place_after_loading_is_in_the_trail(world):
    """The values loaded are made into the 'before' snapshot only at save; a JSON list changed in place in
    between must still show as a change."""
    from gridcare.hall.models import Hall

    hall = Hall.objects.create(unit=world.station_a, opening_hours={"0": [["08:30", "17:30"]]}, closed_dates=[])
    loaded = Hall.objects.get(pk=hall.pk)
    loaded.closed_dates.append("2026-10-01")
    loaded.opening_hours["0"][0][1] = "18:00"
    loaded.save()
    update = AuditLog.objects.filter(content_type__model="hall", object_pk=str(hall.pk), action="update").get()
    assert update.changes == {"closed_dates": [[], ["2026-10-01"]],
                              "opening_hours": [{"0": [["08:30", "17:30"]]}, {"0": [["08:30", "18:00"]]}]}
    loaded.save()  # nothing changed since: no second entry
    assert AuditLog.objects.filter(content_type__model="hall", object_pk=str(hall.pk), action="update").count() == 1


def test_diff_of_a_creation_lists_every_value_set_in_key_order():
    from gridcare.core.audit import diff

    got = diff(None, {"b": 1, "a": None, "c": "", "d": False, "e": 0})
    assert got == {"b": [None, 1], "c": [None, ""], "d": [None, False], "e": [None, 0]}
    assert list(got) == ["b", "c", "d", "e"]
    assert diff({}, {"a": 1}) == diff(None, {"a": 1}) == {"a": [None, 1]}
    assert diff({"a": 1}, {"a": 1}) == {} and diff({"a": 1}, None) == {"a": [1, None]}
