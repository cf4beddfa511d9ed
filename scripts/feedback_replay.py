"""`partnermatch feedback-replay`: the adoption signal, measured offline on recorded feedback."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from scripts.runtime import open_runtime
from service.kpis.replay import replay


def feedback_replay(
    split: Annotated[float, typer.Option(min=0.1, max=0.9, help="Share of the requests (oldest "
                                         "first) the adoption rates are learnt from")] = 0.5,
) -> None:
    """Learn adoption rates from the earlier feedback; rank the later requests without and with
    them; print nDCG@10 and MRR@10 of the adopted partners."""
    runtime = open_runtime()
    with runtime.sessions() as session:
        result = replay(session, runtime.matcher.engine, split)
    typer.echo(json.dumps(result, indent=2))
