"""The report's charts as PNG images: matplotlib (Agg, no pyplot), with a font that has Chinese glyphs.
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from landkit.core.schema import is_missing
from landkit.deliver.labels import (
    DISPOSAL_COLOURS,
    GRADE_COLOURS,
)
from landkit.deliver.report_page import Page

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType


log = logging.getLogger(__name__)

#: Font families with Chinese glyphs, best first (matplotlib family names).
CJK_FONTS = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei", "Microsoft YaHei", "SimHei", "PingFang SC", "Hiragino Sans GB", "Heiti SC",
    "Noto Sans CJK JP", "Source Han Sans", "Droid Sans Fallback", "AR PL UMing CN", "AR PL UKai CN",
)
#: File names of such fonts, for a matplotlib font cache built before the font was installed.
CJK_FILE = re.compile(r"wqy|noto\w*cjk|notosanssc|sourcehan|droidsansfallback|simhei|msyh|pingfang|uming|ukai", re.I)

#: Resolution of the charts (dots per inch).
DPI = 110


# --- charts --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Return the family name of an installed font with Chinese glyphs, or None."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return name
    # matplotlib's font cache may predate the font: look at the font files themselves.
    for path in sorted(font_manager.findSystemFonts()):
        if CJK_FILE.search(Path(path).name):
            try:
                font_manager.fontManager.addfont(path)
                return font_manager.FontProperties(fname=path).get_name()
            except (OSError, RuntimeError, ValueError):  # unreadable font file
                continue
    return None


#: Top of the KPI chart (% of the target): shares beyond it are drawn on it.
CHART_MAX_PCT = 200.0
#: Line colours of the KPI chart (ColorBrewer Dark2 and Set1's darker hues).
KPI_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666", "#377eb8", "#984ea3")


class Charts:
    """Draws the report's charts as PNG bytes (Agg, no pyplot: the caller's backend is left alone)."""

    def __init__(self, page: Page) -> None:
        import matplotlib

        self.matplotlib = matplotlib
        self.font = cjk_font()
        if self.font is None:
            log.warning(
                "no font with Chinese glyphs found for the report's charts; they are labelled in English "
                "(install one, e.g. `apt-get install fonts-wqy-microhei` or fonts-noto-cjk)"
            )
        # Chart text: the page's language when a CJK font exists, English otherwise.
        self.page = page if self.font is not None or page.lang == "en" else Page(page.project, "en")
        families = [self.font, "DejaVu Sans"] if self.font else ["DejaVu Sans"]
        self.rc: dict[RcKeyType, Any] = {
            "font.family": "sans-serif", "font.sans-serif": families, "axes.unicode_minus": False,
            "font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
            "savefig.dpi": DPI, "figure.dpi": DPI,
        }

    @property
    def cjk(self) -> bool:
        return self.font is not None

    def draw(self, size: tuple[float, float], paint: Callable[[Any], None]) -> bytes:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        with self.matplotlib.rc_context(self.rc):
            fig = Figure(figsize=size, dpi=DPI, layout="constrained")
            FigureCanvasAgg(fig)
            paint(fig.add_subplot())
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
        return buf.getvalue()

    def grades(self, by_grade: pd.DataFrame) -> bytes:
        p = self.page
        grades = [str(g) for g in by_grade["grade"]]

        def paint(ax: Any) -> None:
            area = by_grade["area_mu"].to_numpy(dtype=float)
            bars = ax.bar([p.grade(g) for g in grades], area, color=[GRADE_COLOURS.get(g, "#999999") for g in grades],
                          edgecolor="#555555", linewidth=0.5)
            for bar, n in zip(bars, by_grade["parcels"], strict=True):
                ax.annotate(f"{int(n):,}", (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center",
                            va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")
            ax.set_title(p.t("grade_chart"))
            ax.yaxis.set_major_formatter(self.matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
            ax.margins(y=0.12)

        return self.draw((6.0, 3.0), paint)

    def kpi_paths(self, paths: pd.DataFrame, target_year: int) -> bytes:
        """Each KPI's share of its target (%) by recorded year, with the straight path to 100 % in the target year."""
        p = self.page

        def paint(ax: Any) -> None:
            for i, (kpi, rows) in enumerate(paths.groupby("kpi", sort=False)):
                colour = KPI_COLOURS[i % len(KPI_COLOURS)]
                years = rows["year"].to_numpy(dtype=float)
                ratio = np.minimum(100 * rows["ratio"].to_numpy(dtype=float), CHART_MAX_PCT)  # far beyond: drawn at the top
                ax.plot(years, ratio, marker="o", color=colour, label=p.kpi(str(kpi)))
                start = 100 * float(rows["path"].iloc[0]) / float(rows["target"].iloc[0])
                ax.plot([years[0], target_year], [start, 100], linestyle=":", color=colour, linewidth=1)
            ax.axhline(100, color="#555555", linewidth=0.8)
            ax.set_ylim(0, CHART_MAX_PCT * 1.05)
            ax.set_title(p.t("kpi_chart", year=target_year))
            ax.xaxis.set_major_locator(self.matplotlib.ticker.MaxNLocator(integer=True))
            ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)

        return self.draw((7.0, 3.4), paint)

    def paths(self, by_path: pd.DataFrame) -> bytes:
        p = self.page
        rows = by_path.iloc[::-1]

        def paint(ax: Any) -> None:
            codes = [str(c) for c in rows["disposal"]]
            ax.barh([p.path(c) for c in codes], rows["area_mu"].to_numpy(dtype=float),
                    color=[DISPOSAL_COLOURS.get(c, "#999999") for c in codes], edgecolor="#555555", linewidth=0.5)
            ax.set_title(p.t("path_chart"))
            ax.xaxis.set_major_formatter(self.matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))

        return self.draw((6.5, 0.32 * len(rows) + 1.0), paint)

    def blocks(self, blocks: pd.DataFrame, park_score: float | None, *, title: str | None = None) -> bytes:
        p = self.page
        rows = blocks.iloc[::-1]
        if self.cjk and "block_name" in rows:
            pairs = zip(rows["block_name"], rows["block_id"], strict=True)
            names = [str(b) if is_missing(n) else str(n) for n, b in pairs]
        else:
            names = [str(b) for b in rows["block_id"]]

        def paint(ax: Any) -> None:
            scores = rows["block_score"].to_numpy(dtype=float)
            bars = ax.barh(names, scores, color="#2c7bb6")
            for bar, score in zip(bars, scores, strict=True):
                if not math.isnan(score):
                    ax.annotate(f"{score:.1f}", (bar.get_width(), bar.get_y() + bar.get_height() / 2), va="center",
                                fontsize=7, xytext=(2, 0), textcoords="offset points")
            if park_score is not None:
                ax.axvline(park_score, color="#d7191c", linestyle="--", linewidth=1,
                           label=f"{p.t('park_line')} {park_score:.1f}")
                ax.legend(loc="lower right", fontsize=8)
            ax.set_xlim(0, 105)
            ax.set_title(title or p.t("block_chart"))
            ax.tick_params(axis="y", labelsize=8)

        return self.draw((6.5, 0.24 * len(rows) + 1.0), paint)


#: Blocks shown at each end of the block chart when there are more than twice as many.
CHART_BLOCKS = 15
