"""Server-rendered SVG charts (no JavaScript, no CDN). Every label is escaped."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from html import escape

from markupsafe import Markup

from kernel.beijing import beijing_time, to_beijing
from kernel.quantities import yuan


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / n
    mag = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1
    step = max(mag * min((1, 2, 5, 10), key=lambda m: abs(mag * m - raw)), 1)
    start = (lo // step) * step
    ticks = []
    v = start
    while v <= hi + step / 2:
        if v >= lo - step / 2:
            ticks.append(v)
        v += step
    return ticks


def yuan_grid(ticks: Sequence[float], y: Callable[[float], float], pad_l: int, w: int
              ) -> list[str]:
    """A price chart's horizontal grid lines, each labelled in yuan at the left."""
    out = []
    for tv in ticks:
        yy = y(tv)
        out.append(f'<line x1="{pad_l}" x2="{pad_l + w}" y1="{yy:.1f}" y2="{yy:.1f}" '
                   f'stroke="#eef2f5"/><text x="{pad_l - 6}" y="{yy + 4:.1f}" '
                   f'text-anchor="end" font-size="11" fill="#5b6b7c">'
                   f'{escape(yuan(int(tv)))}</text>')
    return out


def price_chart(points: list[tuple[str, int]], *, title: str, width: int = 720,
                height: int = 260, empty_text: str = "no trades") -> Markup:
    """A line chart of trade prices (fen per tonne) over time (ISO timestamps)."""
    pad_l, pad_r, pad_t, pad_b = 80, 16, 28, 34
    w, h = width - pad_l - pad_r, height - pad_t - pad_b
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
            f'<rect x="{pad_l}" y="{pad_t}" width="{w}" height="{h}" fill="#fff" '
            f'stroke="#d8dee6"/>')
    if not points:
        return Markup(head + f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" '
                      f'fill="#5b6b7c">{escape(empty_text)}</text></svg>')
    times = [to_beijing(t).timestamp() for t, _ in points]  # naive ISO text is UTC
    prices = [p for _, p in points]
    t0, t1 = min(times), max(times)
    p0: float = min(prices)
    p1: float = max(prices)
    if p1 == p0:
        p0, p1 = p0 - max(1, p0 // 20), p1 + max(1, p1 // 20)
    ticks = _nice_ticks(p0, p1)
    p0, p1 = min(p0, ticks[0]), max(p1, ticks[-1])

    def x(t: float) -> float:
        return pad_l + (w / 2 if t1 == t0 else (t - t0) / (t1 - t0) * w)

    def y(p: float) -> float:
        return pad_t + h - (p - p0) / (p1 - p0) * h

    parts = [head, *yuan_grid(ticks, y, pad_l, w)]
    for t, anchor, xx in ((t0, "start", pad_l), (t1, "end", pad_l + w)):
        label = beijing_time(datetime.fromtimestamp(t, UTC))  # Beijing time, as people read
        parts.append(f'<text x="{xx}" y="{height - 10}" text-anchor="{anchor}" '
                     f'font-size="11" fill="#5b6b7c">{escape(label)}</text>')
    path = " ".join(f"{x(t):.1f},{y(p):.1f}" for t, p in zip(times, prices, strict=True))
    parts.append(f'<polyline fill="none" stroke="#0b6e4f" stroke-width="2" points="{path}"/>')
    for t, p in zip(times, prices, strict=True):
        parts.append(f'<circle cx="{x(t):.1f}" cy="{y(p):.1f}" r="2.5" fill="#0b6e4f">'
                     f'<title>{escape(yuan(p))}</title></circle>')
    parts.append(f'<text x="{pad_l}" y="16" font-size="12" fill="#1d2733">'
                 f'{escape(title)}</text></svg>')
    return Markup("".join(parts))


BAR_COLOURS = ("#0b6e4f", "#c77d1a")


def bar_chart(categories: Sequence[str], series: Sequence[tuple[str, Sequence[int]]], *,
              title: str, width: int = 720, bar_height: int = 14, empty_text: str = "no data",
              fmt: Callable[[int], str] | None = None, pad_l: int = 150, pad_r: int = 90,
              legend_step: int = 160) -> Markup:
    """Horizontal grouped bars: one group per category, one bar per series (at most two
    colours, e.g. scenario a and b), with a legend. Values below zero draw as zero. Each bar
    is labelled by `fmt` (default: the kg with thousands separators)."""
    pad_t = 44
    n_s = max(len(series), 1)
    group = bar_height * n_s + 10
    height = pad_t + max(len(categories), 1) * group + 10
    w = width - pad_l - pad_r
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart bar-chart" role="img" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
            f'<text x="8" y="16" font-size="12" fill="#1d2733">{escape(title)}</text>')
    if not categories or not series:
        return Markup(head + f'<text x="{width / 2}" y="{height / 2 + 8}" '
                      f'text-anchor="middle" fill="#5b6b7c">{escape(empty_text)}</text></svg>')
    top = max([max([*values, 0]) for _, values in series] + [1])
    parts = [head]
    for s, (label, _values) in enumerate(series):
        x = pad_l + s * legend_step
        colour = BAR_COLOURS[s % len(BAR_COLOURS)]
        parts.append(f'<rect x="{x}" y="24" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{x + 14}" y="33" font-size="11" fill="#1d2733">'
                     f'{escape(label)}</text>')
    for c, cat in enumerate(categories):
        y0 = pad_t + c * group
        parts.append(f'<text x="{pad_l - 6}" y="{y0 + group / 2:.1f}" text-anchor="end" '
                     f'font-size="11" fill="#1d2733">{escape(cat)}</text>')
        for s, (label, values) in enumerate(series):
            v = max(int(values[c]), 0) if c < len(values) else 0
            bw = v / top * w
            y = y0 + s * bar_height
            colour = BAR_COLOURS[s % len(BAR_COLOURS)]
            shown, told = (f"{v:,}", f"{v:,} kg") if fmt is None else (fmt(v), fmt(v))
            parts.append(f'<rect class="bar" x="{pad_l}" y="{y}" width="{bw:.1f}" '
                         f'height="{bar_height - 2}" fill="{colour}"><title>'
                         f'{escape(label)} · {escape(cat)}: {escape(told)}</title></rect>'
                         f'<text x="{pad_l + bw + 4:.1f}" y="{y + bar_height - 4}" '
                         f'font-size="10" fill="#5b6b7c">{escape(shown)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
