"""Pillow drawings for the SYNTHETIC dataset's image problems.

Every function here is pure: it takes fully decided content (no random numbers) and returns a
``SIZE x SIZE`` RGB image, so a picture depends only on its arguments. The pictures are kept
deliberately plain (big solid shapes, few objects, strong colours, a 4-pixel empty margin) so a
very small vision model can in principle learn them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

SIZE = 128
Color = tuple[int, int, int]
Point = tuple[float, float]

COLORS: dict[str, Color] = {
    "red": (220, 40, 40),
    "orange": (245, 140, 20),
    "yellow": (240, 210, 30),
    "green": (40, 160, 60),
    "blue": (40, 90, 220),
    "purple": (135, 60, 185),
    "pink": (245, 130, 190),
    "brown": (135, 85, 40),
    "black": (25, 25, 25),
    "gray": (140, 140, 140),
}
WHITE: Color = (255, 255, 255)
INK: Color = (30, 30, 30)
HIGHLIGHT: Color = (230, 40, 200)


@lru_cache(maxsize=8)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled default font (FreeType when available), never a system font file."""
    return ImageFont.load_default(size=size)


def canvas(bg: Color = WHITE) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new("RGB", (SIZE, SIZE), bg)
    return img, ImageDraw.Draw(img)


def shift(img: Image.Image, dx: int, dy: int) -> Image.Image:
    """Move the picture by a few pixels (near-duplicate images differ by such shifts)."""
    if dx == 0 and dy == 0:
        return img
    out = Image.new("RGB", img.size, img.getpixel((0, 0)))
    out.paste(img, (dx, dy))
    return out


def text_center(d: ImageDraw.ImageDraw, xy: Point, text: str, size: int, fill: Color = INK) -> None:
    d.text(xy, text, font=font(size), fill=fill, anchor="mm")


def regular(cx: float, cy: float, r: float, n: int, start_deg: float) -> list[Point]:
    return [(cx + r * math.cos(math.radians(start_deg + 360 * k / n)),
             cy + r * math.sin(math.radians(start_deg + 360 * k / n))) for k in range(n)]


def shape(d: ImageDraw.ImageDraw, kind: str, cx: float, cy: float, r: float, fill: Color,
          outline: Color | None = None) -> None:
    """Draw one named shape centred on (cx, cy) with "radius" r."""
    if kind == "circle":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill, outline=outline, width=2)
        return
    if kind == "star":
        points = [(cx + (r if k % 2 == 0 else 0.45 * r) * math.cos(math.radians(-90 + 36 * k)),
                   cy + (r if k % 2 == 0 else 0.45 * r) * math.sin(math.radians(-90 + 36 * k)))
                  for k in range(10)]
    elif kind == "rectangle":
        points = [(cx - r, cy - 0.55 * r), (cx + r, cy - 0.55 * r), (cx + r, cy + 0.55 * r),
                  (cx - r, cy + 0.55 * r)]
    else:
        sides, start = {"triangle": (3, -90), "square": (4, -45), "diamond": (4, -90),
                        "pentagon": (5, -90), "hexagon": (6, 0), "octagon": (8, 22.5)}[kind]
        points = regular(cx, cy + (0.15 * r if kind == "triangle" else 0), r, sides, start)
    d.polygon(points, fill=fill, outline=outline, width=2 if outline else 1)


def arrow(d: ImageDraw.ImageDraw, a: Point, b: Point, color: Color = INK, width: int = 2,
          head: float = 7) -> None:
    d.line([a, b], fill=color, width=width)
    ang = math.atan2(b[1] - a[1], b[0] - a[0])
    left = (b[0] - head * math.cos(ang - 0.45), b[1] - head * math.sin(ang - 0.45))
    right = (b[0] - head * math.cos(ang + 0.45), b[1] - head * math.sin(ang + 0.45))
    d.polygon([b, left, right], fill=color)


# -- observations ----------------------------------------------------------------------------

def shapes(items: Sequence[tuple[str, str, Point, float]], bg: Color = WHITE) -> Image.Image:
    """``items``: (shape, colour name, centre, radius)."""
    img, d = canvas(bg)
    for kind, color, (cx, cy), r in items:
        shape(d, kind, cx, cy, r, COLORS[color])
    return img


# -- physics ---------------------------------------------------------------------------------

POLE_COLORS: dict[str, Color] = {"N": (215, 50, 50), "S": (50, 90, 215)}


def _magnet(d: ImageDraw.ImageDraw, x: float, y: float, w: float, h: float, first: str,
            vertical: bool = False) -> None:
    """One bar magnet in the box (x, y, w, h); ``first`` is the pole at its left (or top) end."""
    second = "S" if first == "N" else "N"
    for k, pole in enumerate((first, second)):
        if vertical:
            box = [x, y + k * h / 2, x + w, y + (k + 1) * h / 2]
        else:
            box = [x + k * w / 2, y, x + (k + 1) * w / 2, y + h]
        d.rectangle(box, fill=POLE_COLORS[pole], outline=INK)
        text_center(d, ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), pole, 14, WHITE)


def magnets(firsts: Sequence[str], vertical: bool = False, long: bool = True, gap: int = 10, offset: int = 0,
            bg: Color = WHITE) -> Image.Image:
    """Bar magnets in a row (or a column); ``firsts[k]`` is the pole at magnet k's left (top) end.

    ``offset`` moves the row (column) off the centre line.
    """
    img, d = canvas(bg)
    n = len(firsts)
    length = (SIZE - 8 - gap * (n - 1)) / n * (1.0 if long else 0.72)
    thick = 28 if long else 22
    start = (SIZE - n * length - (n - 1) * gap) / 2
    for k, first in enumerate(firsts):
        pos = start + k * (length + gap)
        if vertical:
            _magnet(d, 64 + offset - thick / 2, pos, thick, length, first, vertical=True)
        else:
            _magnet(d, pos, 64 + offset - thick / 2, length, thick, first)
    return img


def magnet_pairs(gaps_cm: Sequence[int], lefts: Sequence[tuple[str, str]], bg: Color = WHITE) -> Image.Image:
    """Two labelled pairs of magnets; the gap inside pair k is ``gaps_cm[k]`` centimetres."""
    img, d = canvas(bg)
    w = 34
    for k, (gap_cm, (l1, l2)) in enumerate(zip(gaps_cm, lefts, strict=True)):
        y = 22 + k * 56
        gap = 8 * gap_cm
        x0 = (SIZE - 2 * w - gap) / 2
        d.text((6, y - 16), f"Pair {k + 1}", font=font(10), fill=INK)
        _magnet(d, x0, y, w, 20, l1)
        _magnet(d, x0 + w + gap, y, w, 20, l2)
        text_center(d, (x0 + w + gap / 2, y + 30), f"{gap_cm} cm", 9)
    return img


def circuit(switches: Sequence[bool], battery_right: bool = False, bg: Color = WHITE) -> Image.Image:
    """A battery, a bulb and switches in series; True = switch closed."""
    img, d = canvas(bg)
    if battery_right:
        return circuit(switches, False, bg).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    x0, y0, x1, y1 = 18, 28, 110, 104
    d.line([(x0, y0), (x1, y0)], fill=INK, width=3)
    d.line([(x1, y0), (x1, y1)], fill=INK, width=3)
    d.line([(x0, y0), (x0, y1)], fill=INK, width=3)
    # Bottom wire, broken where the switches sit.
    n = len(switches)
    seg = (x1 - x0) / (n + 1)
    xs = [x0 + seg * (k + 1) for k in range(n)]
    prev = x0
    for x, closed in zip(xs, switches, strict=True):
        d.line([(prev, y1), (x - 10, y1)], fill=INK, width=3)
        d.ellipse([x - 12, y1 - 2, x - 8, y1 + 2], fill=INK)
        d.ellipse([x + 8, y1 - 2, x + 12, y1 + 2], fill=INK)
        if closed:
            d.line([(x - 10, y1), (x + 10, y1)], fill=INK, width=3)
        else:
            d.line([(x - 10, y1), (x + 6, y1 - 14)], fill=INK, width=3)
        prev = x + 10
    d.line([(prev, y1), (x1, y1)], fill=INK, width=3)
    # Battery on the left wire.
    d.rectangle([x0 - 9, 58, x0 + 9, 76], fill=bg)
    d.line([(x0 - 10, 60), (x0 + 10, 60)], fill=INK, width=3)
    d.line([(x0 - 5, 68), (x0 + 5, 68)], fill=INK, width=5)
    text_center(d, (x0 + 16, 58), "+", 12)
    # Bulb on the top wire (drawn unlit whatever the switches: the picture must not give it away).
    d.ellipse([52, y0 - 14, 76, y0 + 10], fill=(250, 250, 225), outline=INK, width=2)
    d.line([(58, y0 - 2), (64, y0 - 8), (70, y0 - 2)], fill=INK, width=1)
    return img


def balance(left: str, right: str, tilt: int, box: int = 12, bg: Color = WHITE) -> Image.Image:
    """A pan balance; tilt -1 = left side down, +1 = right side down, 0 = level; boxes of side 2*box."""
    img, d = canvas(bg)
    px, py = 64, 58
    d.polygon([(px, py), (px - 18, 110), (px + 18, 110)], fill=(120, 120, 130))
    d.rectangle([30, 110, 98, 116], fill=(120, 120, 130))
    ang = math.radians(14 * tilt)
    half = 48
    lx, ly = px - half * math.cos(ang), py - half * math.sin(ang)
    rx, ry = px + half * math.cos(ang), py + half * math.sin(ang)
    d.line([(lx, ly), (rx, ry)], fill=INK, width=4)
    for (x, y), color in (((lx, ly), left), ((rx, ry), right)):
        d.rectangle([x - box, y - 2 - 2 * box, x + box, y - 2], fill=COLORS[color], outline=INK)
    return img


def thermometer(value: float, lo: int, hi: int, major: int, minor: int, bg: Color = WHITE) -> Image.Image:
    """A Celsius thermometer from ``lo`` to ``hi`` with the liquid at ``value``."""
    img, d = canvas(bg)
    top, bottom = 12, 96

    def y_of(v: float) -> float:
        return bottom - (v - lo) / (hi - lo) * (bottom - top)

    d.rounded_rectangle([56, top - 6, 72, bottom + 8], radius=8, fill=WHITE, outline=INK, width=2)
    d.ellipse([52, 96, 76, 120], fill=(210, 30, 30), outline=INK, width=2)
    d.rectangle([60, y_of(value), 68, 104], fill=(210, 30, 30))
    for v in range(lo, hi + 1, minor):
        y = y_of(v)
        is_major = (v - lo) % major == 0
        d.line([(72, y), (80 if is_major else 77, y)], fill=INK, width=1)
        if is_major:
            d.text((50, y), str(v), font=font(10), fill=INK, anchor="rm")
    text_center(d, (98, 12), "°C", 11)
    return img


def clock(hour: int, minute: int, bg: Color = WHITE) -> Image.Image:
    img, d = canvas(bg)
    c, r = 64, 56
    d.ellipse([c - r, c - r, c + r, c + r], fill=WHITE, outline=INK, width=3)
    for k in range(12):
        a = math.radians(30 * k - 90)
        d.line([(c + (r - 8) * math.cos(a), c + (r - 8) * math.sin(a)),
                (c + (r - 2) * math.cos(a), c + (r - 2) * math.sin(a))], fill=INK, width=2)
    for num in (12, 3, 6, 9):
        a = math.radians(30 * num - 90)
        text_center(d, (c + (r - 17) * math.cos(a), c + (r - 17) * math.sin(a)), str(num), 12)
    ha = math.radians(30 * (hour % 12) + minute / 2 - 90)
    ma = math.radians(6 * minute - 90)
    d.line([(c, c), (c + 28 * math.cos(ha), c + 28 * math.sin(ha))], fill=INK, width=5)
    d.line([(c, c), (c + 46 * math.cos(ma), c + 46 * math.sin(ma))], fill=(60, 60, 200), width=3)
    d.ellipse([c - 4, c - 4, c + 4, c + 4], fill=INK)
    return img


# -- chemistry -------------------------------------------------------------------------------

ATOM_COLORS: dict[str, Color] = {"H": (245, 245, 245), "O": (220, 40, 40), "C": (60, 60, 60),
                                 "N": (50, 90, 220), "Cl": (40, 170, 60)}


def molecule(atoms: Sequence[tuple[str, Point]], bonds: Sequence[tuple[int, int]],
             bg: Color = WHITE) -> Image.Image:
    """A ball-and-stick model; atom positions are in [-1, 1] around the centre."""
    img, d = canvas(bg)
    pos = [(64 + 40 * x, 64 + 40 * y) for _, (x, y) in atoms]
    for a, b in bonds:
        d.line([pos[a], pos[b]], fill=(150, 150, 150), width=6)
    for (element, _), (x, y) in zip(atoms, pos, strict=True):
        r = 11 if element == "H" else 16
        d.ellipse([x - r, y - r, x + r, y + r], fill=ATOM_COLORS[element], outline=INK, width=2)
    return img


def beakers(counts: Sequence[int], positions: Sequence[Sequence[Point]], bg: Color = WHITE) -> Image.Image:
    """Two beakers of equal water volume holding ``counts[k]`` purple particles.

    ``positions[k]`` are particle centres in the unit square, mapped into the water.
    """
    img, d = canvas(bg)
    for k in range(2):
        x0 = 8 + k * 62
        d.text((x0 + 2, 14), f"Solution {'AB'[k]}", font=font(9), fill=INK)
        d.rectangle([x0, 56, x0 + 50, 110], fill=(185, 220, 245))
        d.line([(x0, 30), (x0, 110), (x0 + 50, 110), (x0 + 50, 30)], fill=INK, width=2)
        for u, v in positions[k][: counts[k]]:
            x, y = x0 + 6 + u * 38, 62 + v * 42
            d.ellipse([x - 3, y - 3, x + 3, y + 3], fill=(120, 40, 170))
    return img


# -- biology ---------------------------------------------------------------------------------

ORGANISM_ICONS: dict[str, tuple[str, Color]] = {
    "grass": ("triangle", (60, 170, 60)),
    "berry bush": ("circle", (20, 100, 40)),
    "clover": ("diamond", (140, 210, 90)),
    "rabbit": ("circle", (160, 160, 160)),
    "mouse": ("square", (190, 150, 100)),
    "deer": ("diamond", (150, 95, 45)),
    "cricket": ("star", (150, 200, 40)),
    "fox": ("triangle", (240, 130, 30)),
    "owl": ("circle", (120, 60, 160)),
    "snake": ("hexagon", (220, 200, 40)),
    "hawk": ("star", (40, 40, 40)),
}


def food_web(tiers: Sequence[Sequence[str]], edges: Sequence[tuple[str, str]],
             bg: Color = WHITE) -> Image.Image:
    """``tiers`` bottom (producers) to top; an edge (food, eater) is an arrow food -> eater."""
    img, d = canvas(bg)
    where: dict[str, Point] = {}
    for t, tier in enumerate(tiers):
        y = 104 - t * 40
        for k, name in enumerate(tier):
            where[name] = ((k + 1) * SIZE / (len(tier) + 1), y)
    for food, eater in edges:
        (x0, y0), (x1, y1) = where[food], where[eater]
        length = math.hypot(x1 - x0, y1 - y0)
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        arrow(d, (x0 + 11 * ux, y0 + 11 * uy), (x1 - 12 * ux, y1 - 12 * uy), width=2)
    for name, (x, y) in where.items():
        kind, color = ORGANISM_ICONS[name]
        shape(d, kind, x, y, 10, color, outline=INK)
        text_center(d, (x, y + 15), name, 7)
    return img


PLANT_PARTS = ("roots", "stem", "leaves", "flower")


def plant(highlight: str, flower_color: Color = (245, 200, 30), leaf_pairs: int = 1,
          bg: Color = WHITE) -> Image.Image:
    img, d = canvas(bg)

    def col(part: str, normal: Color) -> Color:
        return HIGHLIGHT if part == highlight else normal

    d.rectangle([4, 88, 124, 124], fill=(205, 175, 130))
    for dx, dy in ((-18, 30), (0, 34), (18, 28), (-9, 20), (9, 22)):
        d.line([(64, 88), (64 + dx, 88 + dy)], fill=col("roots", (110, 70, 30)), width=4)
    d.line([(64, 88), (64, 34)], fill=col("stem", (60, 140, 50)), width=7)
    for y in (56, 74)[:leaf_pairs]:
        for side in (-1, 1):
            cx = 64 + side * 20
            d.ellipse([cx - 16, y - 8, cx + 16, y + 8], fill=col("leaves", (70, 180, 70)), outline=INK)
    flower = col("flower", flower_color)
    for k in range(6):
        a = math.radians(60 * k)
        x, y = 64 + 11 * math.cos(a), 26 + 11 * math.sin(a)
        d.ellipse([x - 7, y - 7, x + 7, y + 7], fill=flower, outline=INK)
    d.ellipse([58, 20, 70, 32], fill=(150, 90, 30))
    return img


# -- earth and space -------------------------------------------------------------------------

MOON_PHASES = ("new moon", "waxing crescent", "first quarter", "waxing gibbous", "full moon",
               "waning gibbous", "third quarter", "waning crescent")


def moon(phase: str, stars: Sequence[Point] = (), radius: int = 48) -> Image.Image:
    img, d = canvas((15, 20, 45))
    for x, y in stars:
        d.ellipse([x - 1.5, y - 1.5, x + 1.5, y + 1.5], fill=(230, 230, 255))
    c, r = 64, radius
    lit, dark = (245, 235, 170), (70, 70, 85)
    box = [c - r, c - r, c + r, c + r]
    d.ellipse(box, fill=dark)
    if phase == "full moon":
        d.ellipse(box, fill=lit)
    elif phase != "new moon":
        waxing = phase.startswith("waxing") or phase == "first quarter"
        # Lit half: the right half while waxing, the left half while waning.
        d.pieslice(box, -90, 90, fill=lit) if waxing else d.pieslice(box, 90, 270, fill=lit)
        w = 0.55 * r
        inner = [c - w, c - r, c + w, c + r]
        if phase.endswith("crescent"):
            d.ellipse(inner, fill=dark)
        elif phase.endswith("gibbous"):
            d.ellipse(inner, fill=lit)
    return img


def bar_chart(values: Sequence[float], labels: Sequence[str], top: float, bg: Color = WHITE) -> Image.Image:
    img, d = canvas(bg)
    x0, y0, x1, y1 = 16, 10, 122, 108
    d.line([(x0, y0), (x0, y1), (x1, y1)], fill=INK, width=2)
    n = len(values)
    slot = (x1 - x0) / n
    for k, (v, label) in enumerate(zip(values, labels, strict=True)):
        h = (y1 - y0 - 4) * v / top
        bx = x0 + k * slot + slot * 0.18
        d.rectangle([bx, y1 - h, bx + slot * 0.64, y1 - 1], fill=(60, 110, 200))
        text_center(d, (bx + slot * 0.32, y1 + 9), label, 9)
    return img


def line_graph(values: Sequence[float], bg: Color = WHITE) -> Image.Image:
    img, d = canvas(bg)
    x0, y0, x1, y1 = 14, 10, 120, 110
    d.line([(x0, y0), (x0, y1), (x1, y1)], fill=INK, width=2)
    lo, hi = 0.0, 10.0
    pts = [(x0 + 10 + k * (x1 - x0 - 20) / (len(values) - 1),
            y1 - 8 - (v - lo) / (hi - lo) * (y1 - y0 - 16)) for k, v in enumerate(values)]
    d.line(pts, fill=(210, 50, 50), width=3)
    for x, y in pts:
        d.ellipse([x - 4, y - 4, x + 4, y + 4], fill=(210, 50, 50))
    return img


def pie(fractions: Sequence[float], colors: Sequence[Color], bg: Color = WHITE) -> Image.Image:
    img, d = canvas(bg)
    box = [10, 10, 118, 118]
    start = -90.0
    for f, color in zip(fractions, colors, strict=True):
        end = start + 360 * f
        d.pieslice(box, start, end, fill=color, outline=WHITE, width=2)
        start = end
    return img


# -- maps ------------------------------------------------------------------------------------

#: A schematic tile map: every state is one square tile at a fixed (column, row).
STATE_TILES: dict[str, tuple[int, int]] = {
    "Alaska": (0, 0), "Maine": (10, 0), "Vermont": (9, 1), "New Hampshire": (10, 1),
    "Washington": (0, 2), "Idaho": (1, 2), "Montana": (2, 2), "North Dakota": (3, 2),
    "Minnesota": (4, 2), "Illinois": (5, 2), "Wisconsin": (6, 2), "Michigan": (7, 2),
    "New York": (8, 2), "Rhode Island": (9, 2), "Massachusetts": (10, 2),
    "Oregon": (0, 3), "Nevada": (1, 3), "Wyoming": (2, 3), "South Dakota": (3, 3), "Iowa": (4, 3),
    "Indiana": (5, 3), "Ohio": (6, 3), "Pennsylvania": (7, 3), "New Jersey": (8, 3),
    "Connecticut": (9, 3),
    "California": (0, 4), "Utah": (1, 4), "Colorado": (2, 4), "Nebraska": (3, 4), "Missouri": (4, 4),
    "Kentucky": (5, 4), "West Virginia": (6, 4), "Virginia": (7, 4), "Maryland": (8, 4),
    "Delaware": (9, 4),
    "Arizona": (1, 5), "New Mexico": (2, 5), "Kansas": (3, 5), "Arkansas": (4, 5),
    "Tennessee": (5, 5), "North Carolina": (6, 5), "South Carolina": (7, 5),
    "Oklahoma": (3, 6), "Louisiana": (4, 6), "Mississippi": (5, 6), "Alabama": (6, 6),
    "Georgia": (7, 6),
    "Hawaii": (0, 7), "Texas": (3, 7), "Florida": (8, 7),
}


def tile_map(highlight: str, bg: Color = WHITE) -> Image.Image:
    img, d = canvas(bg)
    tile, x0, y0 = 11, 4, 20
    for state, (col, row) in STATE_TILES.items():
        x, y = x0 + col * tile, y0 + row * tile
        fill = (30, 120, 60) if state == highlight else (200, 205, 210)
        d.rectangle([x, y, x + tile - 2, y + tile - 2], fill=fill)
    return img


CONTINENT_SHAPES: dict[str, list[Point]] = {
    "North America": [(8, 18), (48, 14), (52, 30), (40, 46), (30, 58), (22, 50), (10, 36)],
    "South America": [(30, 62), (46, 64), (44, 82), (36, 98), (32, 88), (28, 72)],
    "Europe": [(58, 18), (76, 16), (78, 30), (62, 34), (56, 28)],
    "Africa": [(58, 40), (80, 38), (86, 54), (76, 78), (66, 82), (60, 60)],
    "Asia": [(82, 14), (120, 16), (122, 40), (104, 52), (92, 48), (82, 34)],
    "Australia": [(98, 66), (118, 64), (120, 80), (104, 86)],
    "Antarctica": [(20, 110), (108, 110), (100, 122), (28, 122)],
}
OCEAN_SHAPES: dict[str, list[Point]] = {
    "Arctic Ocean": [(4, 4), (124, 4), (124, 12), (4, 12)],
    "Pacific Ocean": [(4, 16), (8, 18), (10, 36), (22, 50), (28, 72), (32, 88), (24, 100), (4, 100)],
    "Atlantic Ocean": [(50, 14), (56, 20), (56, 28), (62, 36), (58, 42), (60, 60), (66, 82),
                       (58, 100), (38, 100), (36, 98), (44, 82), (46, 64), (32, 60), (40, 46),
                       (52, 30)],
    "Indian Ocean": [(86, 54), (104, 54), (98, 66), (104, 86), (92, 100), (68, 98), (76, 78)],
    "Southern Ocean": [(4, 101), (124, 101), (124, 108), (4, 108)],
}


def world_map(highlight: str, bg: Color = (175, 210, 240)) -> Image.Image:
    img, d = canvas(bg)
    if highlight in OCEAN_SHAPES:
        d.polygon(OCEAN_SHAPES[highlight], fill=(30, 60, 160))
    for name, poly in CONTINENT_SHAPES.items():
        d.polygon(poly, fill=(40, 130, 60) if name == highlight else (215, 195, 140))
    return img


#: Compass rose rotation: where "north" points on the picture, in degrees counter-clockwise from up.
NORTH_ANGLE = {"up": 0, "left": 90, "down": 180, "right": 270}


def compass_map(markers: Sequence[tuple[str, Point]], north: str, bg: Color = (235, 225, 190)) -> Image.Image:
    """Coloured markers at picture coordinates, and a compass rose pointing north."""
    img, d = canvas(bg)
    for color, (x, y) in markers:
        d.ellipse([x - 7, y - 7, x + 7, y + 7], fill=COLORS[color], outline=INK, width=2)
    cx, cy = 106, 106
    a = math.radians(NORTH_ANGLE[north])
    ux, uy = -math.sin(a), -math.cos(a)  # the picture direction north points to
    d.line([(cx - 12 * uy, cy + 12 * ux), (cx + 12 * uy, cy - 12 * ux)], fill=INK, width=1)
    arrow(d, (cx - 12 * ux, cy - 12 * uy), (cx + 12 * ux, cy + 12 * uy), width=2, head=6)
    text_center(d, (cx + 19 * ux, cy + 19 * uy), "N", 10)
    return img


def ruler(length: float, color: str, bg: Color = WHITE) -> Image.Image:
    """A bar of ``length`` cm above a 0-10 cm ruler."""
    img, d = canvas(bg)
    x0, unit = 12, 10.4
    d.rectangle([x0 - 6, 70, x0 + 10 * unit + 6, 98], fill=(250, 225, 120), outline=INK)
    for k in range(0, 21):
        x = x0 + k * unit / 2
        d.line([(x, 70), (x, 80 if k % 2 == 0 else 75)], fill=INK, width=1)
        if k % 2 == 0:
            text_center(d, (x, 89), str(k // 2), 9)
    d.rectangle([x0, 44, x0 + length * unit, 62], fill=COLORS[color], outline=INK)
    return img
