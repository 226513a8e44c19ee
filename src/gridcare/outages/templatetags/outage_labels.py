"""The outage pages' labels from choices in the reader's language (labels.py): `{{ o.kind|outage_kind }}`,
`outage_state`, `outage_scope`, `outage_update`."""
from django import template

from .. import labels

register = template.Library()


def _filter(label):
    return lambda value: label(value) if value else ""


for _name, _label in (("outage_kind", labels.kind_label), ("outage_state", labels.state_label),
                      ("outage_scope", labels.scope_label), ("outage_update", labels.update_label)):
    register.filter(_name, _filter(_label))
