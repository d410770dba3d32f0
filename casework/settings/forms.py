"""The settings form: one field per run-time setting (services.DEFINITIONS), carrying
the text as typed; services.update() checks each against its range."""

from casework.forms import InputForm, Lenient
from casework.settings.services import DEFINITIONS


class SettingsForm(InputForm):
    """Every setting as typed ("" when not sent)."""

    def submitted(self) -> dict:
        return {key: self[key].data for key in DEFINITIONS}


for _key in DEFINITIONS:
    setattr(SettingsForm, _key, Lenient(parse=lambda value: "" if value is None else value))
