"""The columns of each export dataset, with the data dictionary's descriptions."""

from __future__ import annotations

from bot.services.exports.tables import Column


def _col(key: str, kind: str = "text", user: bool = False, description: str = "") -> Column:
    return Column(key, key, description, kind, user)  # type: ignore[arg-type]


# Beside `country`, the record's region is the code within it (QC with CA, CA with US): the
# filters and the answers table's `_region` write the two together (CA-QC, US-CA).
def _region() -> Column:
    return _col("region", description="province or state within country (QC with CA = CA-QC)")


LONG_COLUMNS = [
    _col("id", "number", description="record entry id"),
    _col("pseudonym"),
    _col("survey_id", "number"),
    # Staff write form ids and versions in the form's settings sheet: typed text like any other.
    _col("form_id", user=True),
    _col("form_version", user=True),
    _col("question"),
    _col("question_label", user=True),
    _col("value", user=True, description="the answer as stored (choice names for selects)"),
    _col(
        "value_label",
        user=True,
        description='the answer as shown to the member (select_multiple: labels separated by "; ")',
    ),
    _col("language"),
    _col("at", description="when answered (UTC)"),
    _col("round"),
    _col("meeting_id", "number"),
    _col("theme"),
    _col("country"),
    _region(),
    _col("sector"),
    _col("association_id", "number"),
    _col("supersedes", "number", description="the entry this answer replaced"),
]
PROPOSAL_COLUMNS = [
    _col("id", "number"),
    _col("pseudonym"),
    _col("theme"),
    _col("text", user=True),
    _col("language"),
    _col("created_at", description="UTC"),
    _col("round"),
    _col("country"),
    _region(),
    _col("sector"),
    _col("association_id", "number"),
    _col("record_id", "number", description="the proposal's record entry"),
]
MEETING_COLUMNS = [
    _col("id", "number"),
    _col("kind"),
    _col("title", user=True),
    _col("start_at", description="UTC"),
    _col("zone"),
    _col("local_start"),
    _col("duration_minutes", "number"),
    _col("capacity", "number"),
    _col("round"),
    _col("theme"),
    _col("status"),
    _col("rsvp_yes", "number", description="Yes with a seat"),
    _col("rsvp_maybe", "number"),
    _col("rsvp_no", "number"),
    _col("waitlist", "number", description="Yes waiting for a seat"),
    _col("attended", "number", description="checked in"),
    _col("has_minutes", "number"),
]
MEMBER_COLUMNS = [
    _col("pseudonym"),
    _col("status"),
    _col("language"),
    _col("country"),
    _region(),
    _col("sector"),
    _col("association_id", "number"),
    _col("association", user=True),
    _col("themes"),
    _col("registered_at", description="UTC"),
    _col("deleted_at", description="UTC; erased members keep only their pseudonym"),
]
PII_COLUMNS = [
    _col("name", user=True),
    _col("phone", user=True),
    _col("email", user=True),
    _col("telegram_id", "number"),
    _col("city", user=True),
]
EVIDENCE_COLUMNS = [
    _col("clause_id"),
    _col("clause_text", user=True),
    _col("kind", description="answer, proposal, meeting or record (or none: no evidence)"),
    _col("ref", "number"),
    _col("note", user=True),
    _col("linked_by"),
    _col("linked_at"),
    _col("pseudonym"),
    _col("survey_id", "number"),
    _col("question"),
    _col("content", user=True),
    _col("round"),
    _col("theme"),
    _col("country"),
    _region(),
    _col("sector"),
    _col("at"),
]
COUNT_COLUMNS = [
    _col("clause_id"),
    _col("by", description="region or sector"),
    _col("value", description="the region (CA-QC) or sector; (none) when unknown"),
    _col("items", "number", description="linked items from there"),
]
