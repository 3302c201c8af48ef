"""Social-science skills of the SYNTHETIC dataset (geography, economics, civics, history).

Map positions, capitals and other facts are fixed tables: the same state is always drawn in the
same tile and always has the same capital.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from vlprune.data.synthetic import render
from vlprune.data.synthetic.core import Ctx, Item, join_words, others
from vlprune.data.synthetic.helpers import cap, fill

SUBJECT = "social science"


# ---------------------------------------------------------------------------- geography

def highlighted_state(ctx: Ctx) -> Item:
    states = list(render.STATE_TILES)
    if ctx.level > 0.4:
        # Neighbouring tiles are the easiest to confuse: choices from one small area of the map,
        # the answer any of them (so the set of names does not give it away).
        anchor = ctx.pick(states)
        ac, ar = render.STATE_TILES[anchor]
        near = [s for s, (c, r) in render.STATE_TILES.items() if s != anchor and abs(c - ac) + abs(r - ar) <= 2]
        options = [anchor, *fill(ctx, near, [s for s in states if s != anchor], ctx.n - 1)]
    else:
        options = ctx.sample(states, ctx.n)
    state = ctx.pick(options)
    col, row = render.STATE_TILES[state]
    return Item("Which state is highlighted?", state, [s for s in options if s != state],
                f"The highlighted tile is {state}, in column {col + 1} and row {row + 1} of the tile map.",
                draw=partial(render.tile_map, state),
                caption=f"A tile map of the United States with {state} highlighted in dark green.")


CAPITALS = {
    "Illinois": ("Springfield", "Chicago"), "New York": ("Albany", "New York City"),
    "California": ("Sacramento", "Los Angeles"), "Texas": ("Austin", "Houston"),
    "Florida": ("Tallahassee", "Miami"), "Pennsylvania": ("Harrisburg", "Philadelphia"),
    "Washington": ("Olympia", "Seattle"), "Nevada": ("Carson City", "Las Vegas"),
    "Michigan": ("Lansing", "Detroit"), "Oregon": ("Salem", "Portland"),
    "Missouri": ("Jefferson City", "Kansas City"), "Louisiana": ("Baton Rouge", "New Orleans"),
    "Kentucky": ("Frankfort", "Louisville"), "Maryland": ("Annapolis", "Baltimore"),
    "Ohio": ("Columbus", ""), "Georgia": ("Atlanta", ""), "Colorado": ("Denver", ""),
    "Arizona": ("Phoenix", ""), "Massachusetts": ("Boston", ""), "Tennessee": ("Nashville", "Memphis"),
    "Utah": ("Salt Lake City", ""), "Iowa": ("Des Moines", ""), "Vermont": ("Montpelier", "Burlington"),
    "Alaska": ("Juneau", "Anchorage"), "Maine": ("Augusta", "Portland"), "Minnesota": ("Saint Paul", "Minneapolis"),
}


def capitals(ctx: Ctx) -> Item:
    state = ctx.pick(list(CAPITALS))
    capital, big_city = CAPITALS[state]
    others_ = [c for s, (c, _) in CAPITALS.items() if s != state]
    # From grade 8 the state's largest city, a classic wrong answer, joins the distractors.
    preferred = [big_city] if big_city and ctx.grade >= 8 else []
    wrong = fill(ctx, preferred, others_, ctx.n - 1)
    extra = f" {big_city} is a large city there, but it is not the capital." if big_city in wrong else ""
    return Item(f"What is the capital of {state}?", capital, wrong, f"{capital} is the capital of {state}.{extra}")


MARKER_COLORS = ("red", "blue", "green", "yellow", "purple", "orange")
DIRECTIONS = ("north", "south", "east", "west")
# Picture vectors (x right, y down) of "north" for each way the compass rose can point.
NORTH_VECTORS = {"up": (0, -1), "right": (1, 0), "down": (0, 1), "left": (-1, 0)}


def compass_map(ctx: Ctx) -> Item:
    k = 3 if ctx.grade < 5 else 4
    north = "up" if ctx.grade < 6 else ctx.pick(("up", "right", "down", "left"))
    colors = ctx.sample(MARKER_COLORS, k)
    cols = ctx.sample(range(5), k)
    rows = ctx.sample(range(5), k)
    # Distinct rows and columns: every marker has its own rank north-south and east-west.
    pts = [(14 + 18 * c + 4, 14 + 18 * r + 4) for c, r in zip(cols, rows, strict=True)]
    nx, ny = NORTH_VECTORS[north]
    ex, ey = -ny, nx  # east is a quarter turn clockwise from north

    def northness(p: tuple[float, float]) -> float:
        return p[0] * nx + p[1] * ny

    def eastness(p: tuple[float, float]) -> float:
        return p[0] * ex + p[1] * ey

    direction = ctx.pick(DIRECTIONS)
    score = {"north": northness, "south": lambda p: -northness(p), "east": eastness,
             "west": lambda p: -eastness(p)}[direction]
    best = max(range(k), key=lambda i: score(pts[i]))
    correct = f"the {colors[best]} marker"
    wrong = ctx.sample([f"the {c} marker" for i, c in enumerate(colors) if i != best], ctx.n - 1)
    ns = [colors[i] for i in sorted(range(k), key=lambda i: -northness(pts[i]))]
    we = [colors[i] for i in sorted(range(k), key=lambda i: eastness(pts[i]))]
    side = {"up": "top", "right": "right", "down": "bottom", "left": "left"}[north]
    caption = (f"A map whose compass rose shows north toward the {side}. From north to south the markers "
               f"are {join_words(ns)}; from west to east they are {join_words(we)}.")
    sol = (f"The compass rose shows that north is toward the {side} of the map. The {colors[best]} marker is "
           f"farthest {direction}.")
    markers = [(c, p) for c, p in zip(colors, pts, strict=True)]
    return Item(f"Which marker is farthest {direction}?", correct, wrong, sol,
                draw=partial(render.compass_map, markers, north), caption=caption)


CONTINENT_WHERE = {
    "North America": "the upper left", "South America": "the lower left", "Europe": "the top middle",
    "Africa": "the middle", "Asia": "the upper right", "Australia": "the lower right",
    "Antarctica": "the bottom",
}
OCEAN_WHERE = {
    "Arctic Ocean": "along the top", "Pacific Ocean": "west of the Americas",
    "Atlantic Ocean": "between the Americas and Europe and Africa",
    "Indian Ocean": "between Africa and Australia", "Southern Ocean": "just north of Antarctica",
}


def continents(ctx: Ctx) -> Item:
    name = ctx.pick(list(render.CONTINENT_SHAPES))
    wrong = ctx.sample([c for c in render.CONTINENT_SHAPES if c != name], ctx.n - 1)
    return Item("Which continent is highlighted?", name, wrong,
                f"The highlighted continent is in {CONTINENT_WHERE[name]} of the map. It is {name}.",
                draw=partial(render.world_map, name),
                caption=f"A world map with {name}, in {CONTINENT_WHERE[name]}, highlighted in dark green.")


def oceans(ctx: Ctx) -> Item:
    name = ctx.pick(list(render.OCEAN_SHAPES))
    wrong = ctx.sample([c for c in render.OCEAN_SHAPES if c != name], ctx.n - 1)
    return Item("Which ocean is highlighted?", f"the {name}", [f"the {w}" for w in wrong],
                f"The highlighted ocean is {OCEAN_WHERE[name]}. It is the {name}.",
                draw=partial(render.world_map, name),
                caption=f"A world map with the {name}, {OCEAN_WHERE[name]}, highlighted in dark blue.")


COUNTRIES = {
    "Africa": ("Kenya", "Egypt", "Nigeria", "Ghana"),
    "Asia": ("China", "Japan", "India", "Vietnam"),
    "Europe": ("France", "Italy", "Norway", "Poland"),
    "North America": ("Canada", "Mexico", "Cuba", "Panama"),
    "South America": ("Brazil", "Peru", "Argentina", "Chile"),
}


def country_continent(ctx: Ctx) -> Item:
    cont = ctx.pick(list(COUNTRIES))
    country = ctx.pick(COUNTRIES[cont])
    if ctx.coin(0.4):
        wrong = ctx.sample(others(COUNTRIES, cont), ctx.n - 1)
        return Item(f"Which country is in {cont}?", country, wrong, f"{country} is in {cont}.")
    wrong = ctx.sample([c for c in COUNTRIES if c != cont], ctx.n - 1)
    return Item(f"Which continent is {country} in?", cont, wrong, f"{country} is in {cont}.")


# ---------------------------------------------------------------------------- economics

GOODS = {
    "good": ("a bicycle", "a sandwich", "a winter coat", "a backpack", "a desk lamp", "a toy boat", "a crayon",
             "a pair of shoes", "a loaf of bread", "a soccer ball", "a pillow", "a jar of honey", "a hammer",
             "a water bottle"),
    "service": ("a haircut", "walking a dog", "fixing a car", "washing windows", "delivering mail",
                "teaching piano lessons", "cleaning teeth", "mowing a lawn", "painting a house", "driving a taxi",
                "babysitting", "repairing a roof", "washing a car", "checking a patient's eyes"),
}


def goods_services(ctx: Ctx) -> Item:
    cls = ctx.pick(list(GOODS))
    x = ctx.pick(GOODS[cls])
    why = ("It is something you can touch." if cls == "good" else "It is a job you pay someone to do.")
    if ctx.n > 2:
        wrong = ctx.sample(others(GOODS, cls), ctx.n - 1)
        return Item(f"Which is {'a good' if cls == 'good' else 'a service'}?", x, wrong,
                    f"{cap(x)} is a {cls}. {why}")
    other = "service" if cls == "good" else "good"
    return Item(f"Is {x} a good or a service?", f"a {cls}", [f"a {other}"], f"{cap(x)} is a {cls}. {why}")


SCENARIOS = (
    ("A big storm destroyed many orange groves near {town}.", "oranges", "supply", "down"),
    ("Many new bakeries opened in {town} this year.", "bread", "supply", "up"),
    ("The only bicycle factory in {town} closed.", "bicycles", "supply", "down"),
    ("Farmers near {town} had a very good corn harvest.", "corn", "supply", "up"),
    ("A new machine lets workers in {town} make twice as many chairs.", "chairs", "supply", "up"),
    ("A disease made many hens near {town} stop laying.", "eggs", "supply", "down"),
    ("A popular TV show made skateboards very popular in {town}.", "skateboards", "demand", "up"),
    ("Doctors in {town} warned that too much candy is unhealthy.", "candy", "demand", "down"),
    ("A long heat wave hit {town} this summer.", "air conditioners", "demand", "up"),
    ("Many families moved away from {town}.", "houses in {town}", "demand", "down"),
    ("Winter came early to {town} and was very cold.", "warm coats", "demand", "up"),
    ("Tea became much cheaper in {town}, so many people switched from coffee to tea.", "coffee", "demand", "down"),
)


def supply_demand(ctx: Ctx) -> Item:
    template, product, which, way = ctx.pick(SCENARIOS)
    town = ctx.town()
    texts = {w: f"The {which} will probably go {w}." for w in ("up", "down")}
    texts["same"] = f"The {which} will probably stay the same."
    wrong = [texts[w] for w in ("up", "down", "same") if w != way][: ctx.n - 1]
    if which == "supply":
        why = "Sellers can now offer more." if way == "up" else "Sellers can now offer less."
    else:
        why = "More people now want to buy it." if way == "up" else "Fewer people now want to buy it."
    return Item(f"What will probably happen to the {which} of {product.format(town=town)}?", texts[way], wrong,
                f"{why} So, the {which} will probably go {way}.", hint=template.format(town=town))


PRICE_ITEMS = ("apples", "pears", "plums", "peaches", "lemons", "grapes", "mangoes", "cherries")


def price_table(ctx: Ctx) -> Item:
    k = max(ctx.n, 3)
    items = ctx.sample(PRICE_ITEMS, k)
    most = ctx.coin()
    cents = ctx.grade >= 6
    if cents:
        # Close prices in dollars and cents: the hard part is comparing 2.45 with 2.54.
        base = ctx.integer(1, 4)
        prices = [base + c / 100 for c in ctx.sample(range(5, 95, 9), k)]
    else:
        prices = [float(p) for p in ctx.sample(range(1, 10), k)]
    best = max(range(k), key=lambda i: prices[i]) if most else min(range(k), key=lambda i: prices[i])

    def money(p: float) -> str:
        return f"${p:.2f}" if cents else f"${int(p)}"

    table = "\n".join(f"{it}: {money(p)} per pound" for it, p in zip(items, prices, strict=True))
    word = "most" if most else "least"
    return Item(f"Look at the price list. Which fruit costs the {word}?", items[best],
                [it for i, it in enumerate(items) if i != best][: ctx.n - 1],
                f"Compare the prices. {cap(items[best])} cost {money(prices[best])} per pound, the {word} "
                "on the list.", hint=f"Prices at the {ctx.town()} market:\n{table}")


BUDGET = {"rent": (60, 110, 210), "food": (50, 160, 70), "savings": (235, 200, 40),
          "travel": (240, 130, 30), "clothes": (140, 70, 180)}


def budget_pie(ctx: Ctx) -> Item:
    k = 4 if ctx.grade < 9 else 5
    chosen = set(ctx.sample(list(BUDGET), k))
    cats = [c for c in BUDGET if c in chosen]  # fixed order round the pie
    largest = ctx.coin(0.7)
    gap = 2 if ctx.level > 0.6 else 6
    # Whole-percent shares with a unique largest (or smallest) slice.
    while True:
        shares = [ctx.integer(5, 40) for _ in cats]
        order = sorted(shares, reverse=largest)
        if abs(order[0] - order[1]) >= gap:
            break
    total = sum(shares)
    pct = [round(100 * s / total) for s in shares]
    pct[-1] = 100 - sum(pct[:-1])
    best = max(range(len(cats)), key=lambda i: shares[i]) if largest else min(range(len(cats)), key=lambda i: shares[i])
    name = ctx.name()
    word = "largest" if largest else "smallest"
    wrong = ctx.sample([c for i, c in enumerate(cats) if i != best], ctx.n - 1)
    listing = ", ".join(f"{c} {p}%" for c, p in zip(cats, pct, strict=True))
    return Item(f"The pie chart shows {name}'s budget. Which category gets the {word} share?", cats[best], wrong,
                f"The {word} slice is {cats[best]}, with {pct[best]}% of the budget.",
                draw=partial(render.pie, [p / 100 for p in pct], [BUDGET[c] for c in cats]),
                caption=f"A pie chart of a budget: {listing}; rent is blue, food green, savings yellow, "
                        "travel orange, and clothes purple.")


# ---------------------------------------------------------------------------- civics and history

BRANCHES = {
    "legislative": ("makes the laws", "includes the Senate and the House of Representatives"),
    "executive": ("carries out and enforces the laws", "is led by the President"),
    "judicial": ("decides what the laws mean", "includes the Supreme Court"),
}


def branches(ctx: Ctx) -> Item:
    branch = ctx.pick(list(BRANCHES))
    fact = ctx.pick(BRANCHES[branch])
    wrong = ctx.sample([b for b in BRANCHES if b != branch], ctx.n - 1)
    return Item(f"Which branch of government {fact}?", f"the {branch} branch", [f"the {w} branch" for w in wrong],
                f"The {branch} branch {fact}.")


AMENDMENTS = {
    "First": "protects freedom of speech and religion",
    "Second": "protects the right to keep and bear arms",
    "Fourth": "protects people from unreasonable searches",
    "Thirteenth": "ended slavery",
    "Nineteenth": "gave women the right to vote",
    "Twenty-sixth": "lowered the voting age to 18",
}


def amendments(ctx: Ctx) -> Item:
    which = ctx.pick(list(AMENDMENTS))
    wrong = ctx.sample([a for a in AMENDMENTS if a != which], ctx.n - 1)
    return Item(f"Which amendment to the Constitution {AMENDMENTS[which]}?", f"the {which} Amendment",
                [f"the {w} Amendment" for w in wrong], f"The {which} Amendment {AMENDMENTS[which]}.")


COLONIES = {
    "colony": ("Virginia", "Massachusetts", "New Hampshire", "Maryland", "Connecticut", "Rhode Island",
               "Delaware", "North Carolina", "South Carolina", "New Jersey", "New York", "Pennsylvania",
               "Georgia"),
    "not": ("Texas", "Ohio", "Florida", "Kentucky", "Tennessee", "Michigan", "Illinois", "California",
            "Louisiana", "Alabama"),
}


def colonies(ctx: Ctx) -> Item:
    negative = ctx.grade >= 6 and ctx.coin(0.3)
    cls = "not" if negative else "colony"
    x = ctx.pick(COLONIES[cls])
    wrong = ctx.sample(others(COLONIES, cls), ctx.n - 1)
    if negative:
        return Item("Which of these states was not one of the Thirteen Colonies?", x, wrong,
                    f"{x} was not one of the Thirteen Colonies; the others were.")
    return Item("Which of these states was one of the Thirteen Colonies?", x, wrong,
                f"{x} was one of the Thirteen Colonies.")


TOWN_EVENTS = ("the first school opened", "the bridge was built", "the library opened", "the railroad arrived",
               "the town hall burned down", "the first hospital opened", "the river flooded", "the park opened",
               "the mill closed", "the museum opened")


def timeline(ctx: Ctx) -> Item:
    k = max(ctx.n, 3)
    events = ctx.sample(TOWN_EVENTS, k)
    gap = 1 if ctx.level > 0.6 else 15
    start = 1800 + ctx.integer(0, 60)
    steps = sorted(ctx.sample(range(1, 9), k))
    years = [start + gap * s for s in steps]
    # The timeline text lists events in shuffled order so the answer is not simply the first line.
    order = ctx.sample(range(k), k)
    first = ctx.coin()
    best = 0 if first else k - 1
    town = ctx.town()
    table = "\n".join(f"{years[i]}: {events[i]}" for i in order)
    word = "first" if first else "most recently"
    return Item(f"Look at the timeline of {town}. Which event happened {word}?", events[best],
                [e for i, e in enumerate(events) if i != best][: ctx.n - 1],
                f"Compare the years. {cap(events[best])} in {years[best]}, "
                f"{'earlier' if first else 'later'} than the other events.", hint=f"Timeline of {town}:\n{table}")


CIVILIZATIONS = {
    "ancient Egypt": ("the Nile River", "built the pyramids of Giza"),
    "Mesopotamia": ("the Tigris and Euphrates Rivers", "invented cuneiform writing"),
    "the Indus Valley civilization": ("the Indus River", "built the planned city of Mohenjo-daro"),
    "ancient China": ("the Yellow River", "began building the Great Wall"),
}


def civilizations(ctx: Ctx) -> Item:
    civ = ctx.pick(list(CIVILIZATIONS))
    river, deed = CIVILIZATIONS[civ]
    wrong_civs = ctx.sample([c for c in CIVILIZATIONS if c != civ], ctx.n - 1)
    if ctx.coin():
        return Item(f"Which river was most important to {civ}?", river,
                    [CIVILIZATIONS[c][0] for c in wrong_civs], f"{cap(civ)} grew up along {river}.")
    return Item(f"Which civilization {deed}?", civ, wrong_civs, f"{cap(civ)} {deed}.")


# ---------------------------------------------------------------------------- the skills

_CAPITAL_LIST = "; ".join(f"{s}: {c}" for s, (c, _) in CAPITALS.items())

#: This subject's part of the catalogue, one row per skill (columns: core.SKILL_COLUMNS;
#: ``max_choices`` defaults to 5), read by core.build_skills. Frequencies live in catalog.RANKING.
SKILL_TABLE: tuple[dict[str, Any], ...] = (
    {"key": "highlighted_state", "topic": "geography", "category": "State identification",
     "name": "Identify the highlighted state",
     "grades": (3, 10), "image": True, "make": highlighted_state,
     "rule": "Each state always sits in the same tile of the map.",
     "lecture": ("A map shows where places are. This tile map draws each state of the United States "
                 "as one square, placed roughly where the state is: Washington and Oregon in the far "
                 "west, Maine in the northeast, Florida in the southeast, Texas in the south, Alaska "
                 "and Hawaii in the corners.")},
    {"key": "capitals", "topic": "geography", "category": "State capitals",
     "name": "Identify state capitals",
     "grades": (4, 12), "image": False, "make": capitals,
     "rule": "The capital is where the state government meets, not always the biggest city.",
     "lecture": ("A capital is the city where a state's government meets. The capital is not always the biggest "
                 f"city. Some capitals: {_CAPITAL_LIST}.")},
    {"key": "compass_map", "topic": "geography", "category": "Maps",
     "name": "Use cardinal directions on a map",
     "grades": (2, 10), "image": True, "max_choices": 4, "make": compass_map,
     "rule": "Use the compass rose to find north, then east is a quarter turn to the right.",
     "lecture": ("The four cardinal directions are north, south, east, and west. A compass rose on a "
                 "map has an arrow labeled N that points north. South is opposite north. When you "
                 "face north, east is to your right and west is to your left. North is not always at "
                 "the top of a map, so check the compass rose.")},
    {"key": "continents", "topic": "geography", "category": "Physical geography",
     "name": "Identify continents",
     "grades": (2, 9), "image": True, "make": continents,
     "rule": "Each continent has a fixed place on the world map.",
     "lecture": ("A continent is one of Earth's seven largest areas of land. On this world map: "
                 + "; ".join(f"{c} is in {w}" for c, w in CONTINENT_WHERE.items()) + ".")},
    {"key": "oceans", "topic": "geography", "category": "Physical geography",
     "name": "Identify oceans",
     "grades": (2, 9), "image": True, "make": oceans,
     "rule": "Each ocean has a fixed place on the world map.",
     "lecture": ("An ocean is a huge body of salt water. Earth has five oceans. On this world map: "
                 + "; ".join(f"the {o} is {w}" for o, w in OCEAN_WHERE.items()) + ".")},
    {"key": "country_continent", "topic": "geography", "category": "World geography",
     "name": "Identify the continents of countries",
     "grades": (4, 10), "image": False, "make": country_continent,
     "rule": "Each country lies on one continent.",
     "lecture": "Every country is on a continent. " + " ".join(f"{c}: {join_words(list(v))}." for c, v in COUNTRIES.items())},
    {"key": "goods_services", "topic": "economics", "category": "Basic economic principles",
     "name": "Identify goods and services",
     "grades": (1, 7), "image": False, "max_choices": 3, "make": goods_services,
     "rule": "Goods can be touched; services are jobs done for you.",
     "lecture": ("Everything you can buy is either a good or a service. A good is something you can touch, such as "
                 + join_words(list(GOODS["good"])) + ". A service is a job you pay someone to do, such as "
                 + join_words(list(GOODS["service"])) + ".")},
    {"key": "supply_demand", "topic": "economics", "category": "Supply and demand",
     "name": "Identify changes in supply and demand",
     "grades": (7, 12), "image": False, "max_choices": 3, "make": supply_demand,
     "rule": "Ask whether the event changes what sellers can offer or what buyers want.",
     "lecture": ("Supply is how much of something sellers offer. Demand is how much buyers want. "
                 "Supply goes down when something destroys crops or closes factories, and goes up "
                 "when production gets easier. Demand goes up when something becomes popular or "
                 "needed, and goes down when people want it less.")},
    {"key": "price_table", "topic": "economics", "category": "Basic economic principles",
     "name": "Compare prices in a list",
     "grades": (3, 8), "image": False, "make": price_table,
     "rule": "Compare dollars first, then cents.",
     "lecture": ("A price list tells how much each item costs. To find the item that costs the most, "
                 "compare the dollars first; if they are equal, compare the cents. The highest price "
                 "costs the most and the lowest price costs the least.")},
    {"key": "budget_pie", "topic": "economics", "category": "Banking and finance",
     "name": "Read a budget pie chart",
     "grades": (5, 12), "image": True, "make": budget_pie,
     "rule": "The biggest slice is the biggest share.",
     "lecture": ("A budget is a plan for spending and saving money. A pie chart shows a budget as "
                 "slices of a circle; bigger slices are bigger shares. In these charts rent is blue, "
                 "food is green, savings are yellow, travel is orange, and clothes are purple.")},
    {"key": "branches", "topic": "civics", "category": "Government",
     "name": "Identify the branches of government",
     "grades": (4, 12), "image": False, "max_choices": 3, "make": branches,
     "rule": "Each branch has its own job.",
     "lecture": ("The United States government has three branches. "
                 + " ".join(f"The {b} branch {f[0]} and {f[1]}." for b, f in BRANCHES.items()))},
    {"key": "amendments", "topic": "civics", "category": "The Constitution",
     "name": "Identify rights protected by amendments",
     "grades": (7, 12), "image": False, "make": amendments,
     "rule": "Each amendment protects a particular right.",
     "lecture": "Amendments are changes to the Constitution. " + " ".join(f"The {a} Amendment {f}." for a, f in AMENDMENTS.items())},
    {"key": "colonies", "topic": "us history", "category": "The Thirteen Colonies",
     "name": "Identify the Thirteen Colonies",
     "grades": (4, 8), "image": False, "make": colonies,
     "rule": "Only thirteen states began as British colonies.",
     "lecture": ("The Thirteen Colonies were ruled by Great Britain before they became the first United States: "
                 + join_words(list(COLONIES["colony"])) + ". States such as " + join_words(list(COLONIES["not"][:5]))
                 + " were not among them.")},
    {"key": "timeline", "topic": "us history", "category": "Chronology",
     "name": "Order events on a timeline",
     "grades": (5, 12), "image": False, "make": timeline,
     "rule": "Smaller years are earlier; larger years are more recent.",
     "lecture": ("A timeline lists events with their years. An event with a smaller year number "
                 "happened earlier. An event with a larger year number happened more recently. "
                 "Compare the years, not the order of the lines.")},
    {"key": "civilizations", "topic": "world history", "category": "Ancient civilizations",
     "name": "Identify early river civilizations",
     "grades": (6, 10), "image": False, "max_choices": 4, "make": civilizations,
     "rule": "Each early civilization grew along its own river.",
     "lecture": ("The first civilizations grew along rivers. "
                 + " ".join(f"{cap(c)} grew along {r} and {d}." for c, (r, d) in CIVILIZATIONS.items()))},
)
