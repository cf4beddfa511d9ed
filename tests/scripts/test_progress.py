"""Long commands show counts, rate and time left: bars on a terminal, plain lines elsewhere."""

import io

from rich.console import Console

from scripts.progress import ProgressBars


def test_off_a_terminal_each_stage_prints_plain_lines_with_counts_rate_and_time_left() -> None:
    out = io.StringIO()
    with ProgressBars(Console(file=out, width=200), every=0.0) as progress:
        for done in range(0, 201, 50):
            progress("encoding (e5)", done, 200)
        progress("encoding (e5)", 200, 200)  # told again at the end: printed once
        progress("restoring rows", 0, 0)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("encoding (e5): 0/200 (0%)")
    assert lines[2].startswith("encoding (e5): 100/200 (50%), ") and lines[2].endswith(" left")
    assert "/s" in lines[2]
    assert lines[4].startswith("encoding (e5): 200/200 (100%)") and " done in " in lines[4]
    assert lines[5].startswith("restoring rows: 0/0, done in ")
    assert len(lines) == 6


def test_off_a_terminal_lines_come_at_most_every_few_seconds() -> None:
    out = io.StringIO()
    with ProgressBars(Console(file=out, width=200), every=3600.0) as progress:
        for done in range(0, 1001):
            progress("importing", done, 1000)
    assert [line.split(":")[1].split()[0] for line in out.getvalue().splitlines()] == ["0/1,000",
                                                                                        "1,000/1,000"]


def test_on_a_terminal_a_bar_per_stage() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    with ProgressBars(console) as progress:
        progress("encoding (MiniLM)", 3, 4)
        progress("encoding (MiniLM)", 4, 4)
    shown = out.getvalue()
    assert "encoding (MiniLM)" in shown and "4/4" in shown
