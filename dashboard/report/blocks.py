"""The parts a printed report is made of: headings, paragraphs, tables and charts (:class:`Block`).

The physio report (:mod:`loadwatch.dashboard.report.physio`) lays them out as PDF and HTML; the outcome and programme
blocks (:mod:`loadwatch.dashboard.report.outcomes`) are built from the same parts, so neither report imports the other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the chart's plot type only: pdf_charts imports pandas, which `report` from the cache never needs
    from loadwatch.dashboard.report import pdf_charts


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    widths: list[float]  # relative column widths
    align: str = ""  # one letter per column: L or R (default L)


@dataclass
class Chart:
    title: str
    caption: str
    height_mm: float
    #: what the PDF draws (:mod:`loadwatch.dashboard.report.pdf_charts`; None: an HTML-only chart)
    plot: pdf_charts.WeeklyPlot | None
    #: builds the Vega-Lite specification the HTML renders (Altair, imported only then)
    make_spec: Callable[[], dict] = field(repr=False)
    _spec: dict | None = field(default=None, repr=False)
    _svg: str | None = field(default=None, repr=False)

    @property
    def spec(self) -> dict:
        """The Vega-Lite specification (from the dashboard's Altair builders), built once."""
        if self._spec is None:
            self._spec = self.make_spec()
        return self._spec

    def svg(self) -> str:
        """The chart rendered once by vl-convert (the HTML inlines it)."""
        if self._svg is None:
            import vl_convert as vlc

            self._svg = vlc.vegalite_to_svg(self.spec)
        return self._svg


@dataclass
class Block:
    kind: str  # heading | para | small | bullets | table | chart | care | alert
    text: str = ""
    items: list[str] = field(default_factory=list)
    table: Table | None = None
    chart: Chart | None = None
    evidence: str = ""
    #: what a shorter print may trim: "pain" (the pain log's rows), "episodes" (the episode rows, ``data``
    #: holds them merged), "why" (the plan's reasons, which the alerts repeat)
    tag: str = ""
    data: list = field(default_factory=list)
