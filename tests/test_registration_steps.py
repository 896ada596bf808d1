"""The registration table: everything derived from it is what registration has always walked."""

from __future__ import annotations

from bot.services.registration_steps import (
    BY_KEY,
    EDIT_FIELDS,
    EDIT_GROUPS,
    EDITABLE,
    SEQ,
    STEPS,
    group_of,
    seq_of,
)
from bot.services.stepkit import Press


def test_the_path_and_the_edit_groups_are_derived_from_the_table() -> None:
    assert STEPS == (
        "name", "country", "region", "city", "zone", "association", "sector", "themes",
        "email", "phone", "summary",
    )  # fmt: skip
    assert EDIT_GROUPS == {
        "name": ("name",),
        "place": ("country", "region", "city", "zone"),
        "association": ("association",),
        "sector": ("sector",),
        "themes": ("themes",),
        "email": ("email",),
        "phone": ("phone",),
    }
    assert EDIT_FIELDS["place"] == ("country", "region", "city", "time_zone")
    assert EDIT_FIELDS["association"] == ("association_id", "association_none")
    assert EDITABLE == ("name", "place", "association", "sector", "themes", "email", "phone")


def test_every_step_has_its_own_button_number_and_detours_belong_to_a_step() -> None:
    assert sorted(SEQ.values()) == list(range(1, len(BY_KEY) + 1))
    assert group_of("association_new") == "association"
    assert group_of("city") == "city"
    # A profile shown after an edit (no step) takes the review's buttons.
    assert seq_of(None) == SEQ["summary"]


def test_registration_buttons_are_the_engines_and_forged_ids_are_refused() -> None:
    press = Press("reg", SEQ["association"], "c", 2**53)
    assert Press.parse(press.encode()) == press
    assert Press.parse(f"v1:reg:6:c:{2**53 + 1}") is None
    assert Press.parse("v1:reg:6:c:¹") is None
    assert Press.parse("v1:reg:country:CA") is None
