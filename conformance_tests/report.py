"""A pytest plugin that sums the suite up per area and per op (passed, failed, unsupported,
declared deviations), for ``katman conformance`` and for anyone running the suite."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import pytest

_NODE = re.compile(r"test_(values|gradients)\[(?P<area>[^/\]]+)/(?P<op>[^\]]+)\]")
_STATUS = {"passed": "pass", "failed": "FAIL", "skipped": "unsupported", "xfailed": "deviation"}


class Report:
    def __init__(self) -> None:
        # (area, op) -> check -> status
        self.results: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        match = _NODE.search(report.nodeid)
        if match is None or (report.when != "call" and report.outcome != "skipped"
                             and report.outcome != "failed"):  # fmt: skip
            return
        outcome = "xfailed" if hasattr(report, "wasxfail") else report.outcome
        key = (match["area"], match["op"])
        check = match.group(1)
        if self.results[key].get(check) != "FAIL":
            self.results[key][check] = _STATUS[outcome]

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.results:
            return
        write = terminalreporter.write_line
        write("")
        write("katman conformance summary (per area, then per op: values / gradients)")
        by_area: dict[str, list[tuple[str, dict[str, str]]]] = defaultdict(list)
        for (area, op), checks in sorted(self.results.items()):
            by_area[area].append((op, checks))
        write(f"  {'area':<14}{'ops':>5}{'passed':>8}{'failed':>8}{'unsupported':>13}"
              f"{'deviations':>12}")  # fmt: skip
        totals = defaultdict(int)
        for area, ops in by_area.items():
            counts = defaultdict(int)
            for _, checks in ops:
                statuses = set(checks.values())
                status = next((s for s in ("FAIL", "unsupported", "deviation") if s in statuses),
                              "pass")  # fmt: skip
                counts[status] += 1
            for key, value in counts.items():
                totals[key] += value
            write(f"  {area:<14}{len(ops):>5}{counts['pass']:>8}{counts['FAIL']:>8}"
                  f"{counts['unsupported']:>13}{counts['deviation']:>12}")  # fmt: skip
        write(f"  {'total':<14}{sum(totals.values()):>5}{totals['pass']:>8}{totals['FAIL']:>8}"
              f"{totals['unsupported']:>13}{totals['deviation']:>12}")  # fmt: skip
        width = max([28, *(len(op) + 2 for ops in by_area.values() for op, _ in ops)])
        for area, ops in by_area.items():
            write(f"  {area}:")
            for op, checks in ops:
                write(f"    {op:<{width}}{checks.get('values', '-'):<13}"
                      f"{checks.get('gradients', '-')}")  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("katman-conformance-report"):
        config.pluginmanager.register(Report(), "katman-conformance-report")
