"""The one life cycle of an introduction, for every way it moves: feedback from the API and the
Slack buttons, a manager's PATCH, the CLI's demo data.

proposed → adopted → live → churned, or rejected (from proposed or adopted); proposed may go
live at once (adopted the same day). A rejected introduction may be reopened as proposed or
adopted: the rejection, and the adoption it ended, no longer stand, so a KPI never counts their
old dates. Moving to a status dates it: the date given, else the date already recorded, else
today. A move the life cycle forbids raises Conflict and changes nothing.
"""

from __future__ import annotations

from datetime import date

from catalog.tables import Introduction
from service.errors import BadRequest, Conflict

NEXT = {
    "proposed": {"adopted", "live", "rejected"},
    "adopted": {"live", "rejected"},
    "live": {"churned"},
    "churned": set(),
    "rejected": {"proposed", "adopted"},
}
DATE_OF = {
    "proposed": "proposed_on", "adopted": "adopted_on", "live": "live_on",
    "churned": "churned_on", "rejected": "rejected_on",
}
# The dates that must follow each other.
ORDER = ("proposed_on", "adopted_on", "live_on", "churned_on")
# What a verdict on a recommended partner moves its introduction to.
VERDICT_STATUS = {"proposed": "proposed", "adopted": "adopted", "not_a_fit": "rejected"}


def check_move(current: str, status: str) -> None:
    """Conflict unless the life cycle lets an introduction go from `current` to `status`."""
    if status != current and status not in NEXT[current]:
        allowed = ", ".join(sorted(NEXT[current])) or "nothing"
        article = "an" if current[0] in "aeiou" else "a"
        raise Conflict(f"{article} {current} introduction can become {allowed}, not {status}")


def move(intro: Introduction, status: str, on: date | None = None, today: date | None = None) -> bool:
    """Move the introduction to `status`, dated `on` (see the module); False when it is there."""
    check_move(intro.status, status)
    if status == intro.status:
        return False
    if intro.status == "rejected":  # reopened
        intro.rejected_on = intro.adopted_on = None
    column = DATE_OF[status]
    setattr(intro, column, on or getattr(intro, column) or today or date.today())
    if status == "live":  # straight from proposed: adopted the day it went live
        intro.adopted_on = intro.adopted_on or intro.live_on
    intro.status = status
    return True


def check_dates(intro: Introduction) -> None:
    """BadRequest when the introduction's dates do not follow each other."""
    dated = [(name, getattr(intro, name)) for name in ORDER if getattr(intro, name) is not None]
    for (earlier, first), (later, second) in zip(dated, dated[1:], strict=False):
        if second < first:
            raise BadRequest(f"{later} ({second}) is before {earlier} ({first})")
