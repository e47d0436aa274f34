"""SVG charts of the market simulation's pages (server-rendered like `web.charts`: no
JavaScript, every label escaped): price paths over trading days with their band over seeds,
and horizontal bars of money (yuan) or quantities (tonnes)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from markupsafe import Markup

from kernel.quantities import yuan
from web.charts import BAR_COLOURS, _nice_ticks, bar_chart, yuan_grid

#: (label, p5, p50, p95) of one run: fen per tonne per trading day
PathSeries = tuple[str, Sequence[int], Sequence[int], Sequence[int]]


def path_chart(series: Sequence[PathSeries], *, title: str, day_label: str,
               width: int = 720, height: int = 260, empty_text: str = "no data") -> Markup:
    """Median price per trading day (line) and its 5-95 % band over seeds (shaded), one
    colour per run; the y axis in yuan per tonne."""
    pad_l, pad_r, pad_t, pad_b = 80, 16, 44, 34
    w, h = width - pad_l - pad_r, height - pad_t - pad_b
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart path-chart" role="img" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
            f'<text x="8" y="16" font-size="12" fill="#1d2733">{escape(title)}</text>'
            f'<rect x="{pad_l}" y="{pad_t}" width="{w}" height="{h}" fill="#fff" '
            f'stroke="#d8dee6"/>')
    series = [s for s in series if len(s[2])]
    if not series:
        return Markup(head + f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" '
                      f'fill="#5b6b7c">{escape(empty_text)}</text></svg>')
    days = max(len(s[2]) for s in series)
    lo = float(min(min(s[1]) for s in series))
    hi = float(max(max(s[3]) for s in series))
    if hi <= lo:
        lo, hi = lo - max(1.0, lo / 20), hi + max(1.0, hi / 20)
    ticks = _nice_ticks(lo, hi)
    lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])

    def x(d: int) -> float:
        return pad_l + (w / 2 if days == 1 else d / (days - 1) * w)

    def y(p: float) -> float:
        return pad_t + h - (p - lo) / (hi - lo) * h

    parts = [head, *yuan_grid(ticks, y, pad_l, w)]
    for d, anchor in ((0, "start"), (days - 1, "end")):
        parts.append(f'<text x="{x(d):.1f}" y="{height - 10}" text-anchor="{anchor}" '
                     f'font-size="11" fill="#5b6b7c">{escape(day_label)} {d + 1}</text>')
    for k, (label, p5, p50, p95) in enumerate(series):
        colour = BAR_COLOURS[k % len(BAR_COLOURS)]
        lx = pad_l + k * 200
        parts.append(f'<rect x="{lx}" y="24" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{lx + 14}" y="33" font-size="11" fill="#1d2733">'
                     f'{escape(label)}</text>')
        upper = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in enumerate(p95))
        lower = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in reversed(list(enumerate(p5))))
        parts.append(f'<polygon class="band" points="{upper} {lower}" fill="{colour}" '
                     f'fill-opacity="0.15" stroke="none"/>')
        line = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in enumerate(p50))
        parts.append(f'<polyline class="median" fill="none" stroke="{colour}" '
                     f'stroke-width="2" points="{line}"><title>{escape(label)}: '
                     f'{escape(yuan(int(p50[-1])))}</title></polyline>')
    parts.append("</svg>")
    return Markup("".join(parts))


def value_bars(categories: Sequence[str], series: Sequence[tuple[str, Sequence[int]]], *,
               title: str, fmt: Callable[[int], str], width: int = 720,
               bar_height: int = 14, empty_text: str = "no data") -> Markup:
    """Horizontal grouped bars with values shown by `fmt` (yuan, tonnes); below zero as 0."""
    return bar_chart(categories, series, title=title, width=width, bar_height=bar_height,
                     empty_text=empty_text, fmt=fmt, pad_l=170, pad_r=110, legend_step=200)
