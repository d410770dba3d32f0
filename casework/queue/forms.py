"""Forms of the queue pages: they carry input; the queue services validate it and say
what is wrong (Invalid, shown next to the fields, 422)."""

from casework import parsing
from casework.forms import InputForm, Lenient, Values


class SeenVersions(Values):
    """The `seen:<key>` inputs of the list: the version each item had when the list
    was shown (key -> version, None when unreadable), so a bulk change of an item
    changed meanwhile is refused rather than applied blind."""

    PREFIX = "seen:"

    def process(self, formdata, data=None, extra_filters=None):
        self.process_errors, self.raw_data = [], []
        self.data = {name[len(self.PREFIX):]: parsing.whole(value)
                     for name, value in (formdata or {}).items()
                     if name.startswith(self.PREFIX)}


class AssignForm(InputForm):
    """Claim, assign or release the ticked items (assign_items)."""

    item = Values()
    seen = SeenVersions()
    action = Lenient(parse=lambda value: value or "")
    assignee = Lenient(parse=parsing.whole)
    next = Lenient(parse=lambda value: value or "")

    def expected(self) -> dict:
        """The version seen of each ticked item that carried one."""
        return {key: self.seen.data[key] for key in self.item.data if key in self.seen.data}


class ItemActionForm(InputForm):
    """Escalate an order or designate its case for tackling from the queue."""

    version = Lenient(parse=parsing.whole)
    comment = Lenient()


class ExtensionDecisionForm(ItemActionForm):
    """Approve or decline an extension request from the queue."""

    decision = Lenient()
    new_deadline = Lenient(parse=parsing.day)

    @property
    def approve(self) -> bool:
        return self.decision.data == "approve"
