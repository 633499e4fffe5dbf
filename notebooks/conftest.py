"""Under nbval every notebook cell is one test; add up their times per notebook for the summary."""

from collections import defaultdict

_seconds = defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _seconds[path] += report.duration  # setup (the kernel's start), the cell, teardown


def pytest_terminal_summary(terminalreporter):
    if _seconds:
        terminalreporter.section("time per notebook")
        for path, seconds in sorted(_seconds.items()):
            terminalreporter.write_line(f"{seconds:6.1f} s  {path}")
        terminalreporter.write_line(f"{sum(_seconds.values()):6.1f} s  all notebooks")
