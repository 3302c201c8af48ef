"""Natural-science skills of the SYNTHETIC dataset (biology, physics, chemistry, earth science,
units and measurement, science practices).

Each fact table below is the dataset's fixed knowledge base: an entity always has the same
class or property, and the skill's lecture states the table, so a model can learn the facts
from the data itself.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from vlprune.data.synthetic import render
from vlprune.data.synthetic.core import Ctx, Item, article, join_words, others
from vlprune.data.synthetic.helpers import (
    NUMBER_WORDS,
    cap,
    fill,
    fmt_number,
    grid_points,
    nearest_colors,
    spacing_for,
    window_choices,
)

SUBJECT = "natural science"


def _listing(groups: dict[str, tuple[str, ...]], plural: dict[str, str] | None = None) -> str:
    plural = plural or {}
    return " ".join(f"{cap(plural.get(g, g + 's'))}: {join_words(list(m))}." for g, m in groups.items())


# ---------------------------------------------------------------------------- biology

ANIMALS: dict[str, tuple[str, ...]] = {
    "mammal": ("wolf", "horse", "bat", "whale", "goat", "rabbit", "elephant"),
    "bird": ("robin", "eagle", "penguin", "ostrich", "owl", "parrot"),
    "fish": ("trout", "shark", "salmon", "goldfish", "tuna", "seahorse"),
    "reptile": ("lizard", "turtle", "crocodile", "rattlesnake", "iguana"),
    "amphibian": ("frog", "toad", "salamander", "newt"),
}
ANIMAL_TRAITS = {
    "mammal": "Mammals have fur or hair and feed their young milk.",
    "bird": "Birds have feathers, two wings, and a beak.",
    "fish": "Fish live underwater and have fins, not limbs.",
    "reptile": "Reptiles have scaly, waterproof skin.",
    "amphibian": "Amphibians have moist skin and begin their lives in water.",
}


def animal_class(ctx: Ctx) -> Item:
    cls = ctx.pick(list(ANIMALS))
    x = ctx.pick(ANIMALS[cls])
    wrong = ctx.sample(others(ANIMALS, cls), ctx.n - 1)
    q = ctx.spick((f"Select the {cls}.", f"Which animal is {article(cls)} {cls}?"))
    return Item(q, x, wrong, f"{cap(article(x))} {x} is {article(cls)} {cls}. {ANIMAL_TRAITS[cls]}")


VERTEBRATES: dict[str, tuple[str, ...]] = {
    "vertebrate": ("wolf", "robin", "trout", "frog", "lizard", "horse", "eagle", "shark"),
    "invertebrate": ("snail", "spider", "octopus", "earthworm", "ant", "jellyfish", "crab", "butterfly"),
}


def vertebrates(ctx: Ctx) -> Item:
    cls = ctx.pick(list(VERTEBRATES))
    x = ctx.pick(VERTEBRATES[cls])
    wrong = ctx.sample(others(VERTEBRATES, cls), ctx.n - 1)
    has = "has a backbone" if cls == "vertebrate" else "does not have a backbone"
    return Item(f"Select the {cls}.", x, wrong,
                f"{cap(article(x))} {x} {has}, so it is {article(cls)} {cls}.")


PRODUCERS = ("grass", "berry bush", "clover")
HERBIVORES = ("rabbit", "mouse", "deer", "cricket")
CARNIVORES = ("fox", "owl", "snake", "hawk")


def _food_web_caption(edges: list[tuple[str, str]]) -> str:
    links = ", ".join(f"{a} to {b}" for a, b in edges)
    return f"A food web with arrows from food to eater: {links}."


def food_web(ctx: Ctx) -> Item:
    prod = ctx.sample(PRODUCERS, 2)
    herb = ctx.sample(HERBIVORES, 3 if ctx.grade >= 9 else 2)
    carn = ctx.sample(CARNIVORES, 2)
    edges: list[tuple[str, str]] = []
    for h in herb:
        for p in ctx.sample(prod, ctx.integer(1, 2)):
            edges.append((p, h))
    eats: dict[str, list[str]] = {}
    for c in carn:
        eats[c] = ctx.sample(herb, ctx.integer(1, 2))
        edges.extend((h, c) for h in eats[c])
    in_web = [*prod, *herb, *carn]
    edges.sort(key=lambda e: (in_web.index(e[0]), in_web.index(e[1])))
    if ctx.coin():
        prey = [h for h in herb if any(h in v for v in eats.values())]
        h = ctx.pick(prey)
        eaters = [c for c in carn if h in eats[c]]
        correct = ctx.pick(eaters)
        same_tier = [c for c in CARNIVORES if c not in eaters]
        rest = [o for o in in_web if o not in eaters and o != h]
        q = f"In this food web, which organism eats the {h}?"
        sol = f"Follow the arrows. An arrow points from the {h} to the {correct}, so the {correct} eats the {h}."
    else:
        c = ctx.pick(carn)
        correct = ctx.pick(eats[c])
        same_tier = [x for x in HERBIVORES if x not in eats[c]]
        rest = [o for o in in_web if o not in eats[c] and o != c]
        q = f"In this food web, which organism does the {c} eat?"
        sol = f"Follow the arrows into the {c}. An arrow points from the {correct} to the {c}, so the {c} eats the {correct}."
    wrong = fill(ctx, same_tier, rest, ctx.n - 1)
    tiers = [prod, herb, carn]
    return Item(q, correct, wrong, sol, draw=partial(render.food_web, tiers, edges),
                caption=_food_web_caption(edges))


PART_JOBS = {
    "roots": "take in water and nutrients from the soil",
    "stem": "holds up the plant and carries water to the leaves",
    "leaves": "make food for the plant using sunlight",
    "flower": "makes seeds",
}


def plant_parts(ctx: Ctx) -> Item:
    part = ctx.pick(render.PLANT_PARTS)
    verb = "are" if part in ("roots", "leaves") else "is"
    flower = ctx.pick(("yellow", "orange", "red", "blue"))
    pairs = ctx.integer(1, 2)
    caption = (f"A plant with roots, a stem, {NUMBER_WORDS[2 * pairs]} leaves, and {article(flower)} {flower} flower; "
               f"the {part} {verb} colored pink.")
    draw = partial(render.plant, part, render.COLORS[flower], pairs)
    wrong_parts = ctx.sample([p for p in render.PLANT_PARTS if p != part], ctx.n - 1)
    if ctx.grade >= 4 and ctx.coin(0.6):
        return Item("What does the part of the plant that is colored pink do?", PART_JOBS[part],
                    [PART_JOBS[p] for p in wrong_parts],
                    f"The pink part is the {part}. The {part} {PART_JOBS[part]}.", draw=draw, caption=caption)
    return Item("Which part of the plant is colored pink?", part, wrong_parts,
                f"The pink part is the {part}.", draw=draw, caption=caption)


ORGANELLES = {
    "nucleus": "controls the cell's activities",
    "mitochondria": "release energy from food",
    "chloroplasts": "make food using sunlight",
    "cell membrane": "controls what enters and leaves the cell",
    "cell wall": "gives a plant cell a stiff outer layer",
    "vacuole": "stores water and nutrients",
    "ribosomes": "make proteins",
}


def organelles(ctx: Ctx) -> Item:
    part = ctx.pick(list(ORGANELLES))
    wrong = ctx.sample([p for p in ORGANELLES if p != part], ctx.n - 1)
    if ctx.coin():
        return Item(f"Which cell part has this job: it {ORGANELLES[part]}?", part, wrong,
                    f"The {part} {ORGANELLES[part]}.")
    return Item(f"What is the job of the {part}?", ORGANELLES[part], [ORGANELLES[p] for p in wrong],
                f"The {part} {ORGANELLES[part]}.")


TRAITS = {
    "inherited": ("has green eyes", "has curly hair", "has freckles", "has dimples", "has red hair",
                  "has attached earlobes", "has brown eyes", "has straight hair", "has blond hair", "has a cleft chin"),
    "acquired": ("knows how to ride a bike", "has a scar on one knee", "can speak French",
                 "knows how to play the piano", "can juggle three balls", "knows how to swim", "can knit a scarf",
                 "knows how to bake bread", "can play chess", "has a cast on one arm"),
}


def inherited_acquired(ctx: Ctx) -> Item:
    cls = ctx.pick(list(TRAITS))
    trait = ctx.pick(TRAITS[cls])
    name = ctx.name()
    other = "acquired" if cls == "inherited" else "inherited"
    why = ("Children get this trait from their parents' genes." if cls == "inherited"
           else "People learn this or get it from their surroundings, not from their parents' genes.")
    return Item("Is this trait inherited or acquired?", cls, [other], f"{why} So, the trait is {cls}.",
                hint=f"Read the description of a trait. {name} {trait}.")


GENE_TRAITS = (
    ("pea plants", "pea plant", "flower color", "purple flowers", "white flowers", "F"),
    ("pea plants", "pea plant", "seed shape", "round seeds", "wrinkled seeds", "R"),
    ("rabbits", "rabbit", "fur color", "black fur", "white fur", "B"),
    ("dogs", "dog", "fur length", "short fur", "long fur", "L"),
    ("fruit flies", "fruit fly", "wing type", "normal wings", "curly wings", "W"),
    ("tomato plants", "tomato plant", "fruit color", "red fruit", "yellow fruit", "Y"),
)
RATIOS = ("4:0", "3:1", "2:2", "1:3", "0:4")


def genotype(ctx: Ctx) -> Item:
    org, one, trait, dom, rec, big = ctx.pick(GENE_TRAITS)
    small = big.lower()
    hint = f"In {org}, the allele for {dom} ({big}) is dominant over the allele for {rec} ({small})."
    genos = (big + big, big + small, small + small)
    if ctx.grade >= 10 and ctx.n >= 3:
        p1, p2 = ctx.pick(genos), ctx.pick(genos)
        dominant = sum(1 for a in p1 for b in p2 if big in (a, b))
        correct = f"{dominant}:{4 - dominant}"
        wrong = ctx.sample([r for r in RATIOS if r != correct], ctx.n - 1)
        return Item(f"Two {org} with the genotypes {p1} and {p2} are crossed. What is the expected ratio of "
                    f"offspring with {dom} to offspring with {rec}?", correct, wrong,
                    f"A Punnett square of {p1} and {p2} has {dominant} of 4 boxes with at least one {big} "
                    f"allele. So, the expected ratio is {correct}.", hint=hint)
    g = ctx.pick(genos)
    shows_dom = big in g
    correct, wrong = (dom, rec) if shows_dom else (rec, dom)
    why = (f"it has at least one {big} allele" if shows_dom else f"it has two {small} alleles")
    return Item(f"{cap(article(one))} {one} has the genotype {g}. What is its phenotype for {trait}?",
                correct, [wrong], f"The {one} has {correct} because {why}.", hint=hint)


ADAPTATIONS = {
    "staying warm in a cold place": ("polar bear", "walrus", "snowy owl", "musk ox"),
    "living in a hot, dry desert": ("camel", "fennec fox", "roadrunner", "desert tortoise"),
    "swimming in water": ("sea lion", "manatee", "otter", "sea turtle"),
    "climbing trees": ("spider monkey", "sloth", "koala", "tree frog"),
}
ADAPT_WHY = {
    "staying warm in a cold place": "has thick fur or fat that keeps in heat",
    "living in a hot, dry desert": "can go a long time without water and stay cool",
    "swimming in water": "has flippers or webbed feet for pushing through water",
    "climbing trees": "has long limbs or grasping hands and feet for holding branches",
}


def adaptations(ctx: Ctx) -> Item:
    habitat = ctx.pick(list(ADAPTATIONS))
    x = ctx.pick(ADAPTATIONS[habitat])
    wrong = ctx.sample(others(ADAPTATIONS, habitat), ctx.n - 1)
    return Item(f"Which animal's body is adapted for {habitat}?", x, wrong,
                f"The {x} {ADAPT_WHY[habitat]}. So, its body is adapted for {habitat}.")


# ---------------------------------------------------------------------------- physics

def magnets_attract(ctx: Ctx) -> Item:
    l1, l2 = ctx.pick("NS"), ctx.pick("NS")
    r1 = "S" if l1 == "N" else "N"
    r2 = "S" if l2 == "N" else "N"
    vertical, long = ctx.coin(), ctx.coin()
    gap_word, gap = ctx.pick((("a small gap", 6), ("a gap", 12), ("a wide gap", 20)))
    offset = ctx.pick((-20, 0, 20))
    attract = r1 != l2
    correct, wrong = ("attract", "repel") if attract else ("repel", "attract")
    size = "long" if long else "short"
    if vertical:
        caption = (f"Two {size} bar magnets, one above the other with {gap_word}: the top magnet has {l1} on top and {r1} at the "
                   f"bottom; the bottom magnet has {l2} on top and {r2} at the bottom.")
    else:
        caption = (f"Two {size} bar magnets side by side with {gap_word}: the left magnet has {l1} on the left and {r1} on the "
                   f"right; the right magnet has {l2} on the left and {r2} on the right.")
    kind = "Opposite poles attract" if attract else "Like poles repel"
    q = ctx.spick(("Will these magnets attract or repel each other?", "Will these magnets attract or repel?",
                   "Do these two magnets attract or repel each other?"))
    return Item(q, correct, [wrong],
                f"The {r1} pole of one magnet is closest to the {l2} pole of the other magnet. "
                f"{kind}, so these magnets will {correct}.",
                draw=partial(render.magnets, [l1, l2], vertical, long, gap, offset), caption=caption)


def magnets_force(ctx: Ctx) -> Item:
    allow_same = ctx.n >= 3
    g1 = ctx.integer(1, 4)
    if allow_same and ctx.coin(1 / 3):
        g2 = g1
    else:
        spread = 1 if ctx.level > 0.6 else 3
        options = [g for g in range(1, 5) if g != g1 and abs(g - g1) <= spread]
        g2 = ctx.pick(options)
    lefts = [(ctx.pick("NS"), ctx.pick("NS")) for _ in range(2)]
    stem = "The magnitude of the magnetic force is"
    texts = {1: f"{stem} greater in Pair 1.", 2: f"{stem} greater in Pair 2.",
             0: f"{stem} the same in both pairs."}
    which = 0 if g1 == g2 else (1 if g1 < g2 else 2)
    wrong = [texts[k] for k in (1, 2, 0) if k != which and (k != 0 or allow_same)]
    if which == 0:
        sol = "The magnets in both pairs are the same distance apart, so the force is the same in both pairs."
    else:
        sol = (f"Pair 1's magnets are {g1} cm apart and Pair 2's are {g2} cm apart. A smaller distance "
               f"means a greater magnetic force, so the force is greater in Pair {which}.")
    return Item("Think about the magnetic force between the magnets in each pair. Which statement is true?",
                texts[which], wrong, sol, draw=partial(render.magnet_pairs, [g1, g2], lefts),
                caption=f"Two pairs of bar magnets: the magnets in Pair 1 are {g1} cm apart and the "
                        f"magnets in Pair 2 are {g2} cm apart.")


FORCES = {
    "pull": ("open a drawer", "pick an apple off a tree", "tug a rope", "lift a backpack off the floor",
             "take a book off a shelf", "open a door toward the body", "pull a wagon", "reel in a fishing line",
             "pull weeds out of a garden", "drag a sled up a hill", "pull on a sock", "open a cabinet"),
    "push": ("close a drawer", "kick a ball", "press a doorbell", "roll a cart forward", "shut a door",
             "slide a box away", "push a swing", "press a button", "close a cabinet", "throw a ball",
             "push a stroller", "press down on a stapler"),
}


def push_pull(ctx: Ctx) -> Item:
    force = ctx.pick(list(FORCES))
    action = ctx.pick(FORCES[force])
    name = ctx.name()
    direction = "toward" if force == "pull" else "away from"
    other = "push" if force == "pull" else "pull"
    q = ctx.spick((f"Which type of force does {name} use to {action}?",
                   f"{name} wants to {action}. Which type of force does {name} use?",
                   f"What kind of force does {name} use to {action}?"))
    return Item(q, force, [other],
                f"To {action}, {name} makes the object move {direction} {name}. "
                f"A force that moves something {direction} you is a {force}.")


VEHICLES = ("car", "bus", "train", "boat", "truck")


def speed(ctx: Ctx) -> Item:
    veh = ctx.pick(VEHICLES)
    hours = ctx.integer(2, 8)
    faster = ctx.coin()
    k = max(2, min(ctx.n, 4))
    gap = max(5, round(60 * (1 - ctx.level)))
    # The base distance is a surface detail: near-duplicates keep the ranking, change the numbers.
    base = 40 * hours + 5 * int(ctx.s.integers(0, 12))
    offsets = sorted(ctx.sample(range(0, 6), k))
    dists = [base + gap * o for o in offsets]
    target = dists[-1] if faster else dists[0]
    wrong = [d for d in dists if d != target]
    word = "higher" if faster else "lower"
    fmt = f"a {veh} that moved {{}} kilometers in {hours} hours"
    return Item(f"Compare the motion of the {veh}s. Which {veh} was moving at a {word} speed?",
                fmt.format(target), [fmt.format(d) for d in wrong],
                f"Each {veh} moved for {hours} hours. The {veh} that moved {target} kilometers went "
                f"{'farthest' if faster else 'the shortest distance'}, so it had the {word} speed.")


HEAT_OBJECTS = ("200-gram cup of tea", "1-kilogram pot of soup", "300-gram glass of water",
                "500-gram brick", "150-gram bowl of oatmeal")


def thermal(ctx: Ctx) -> Item:
    obj = ctx.pick(HEAT_OBJECTS)
    more = ctx.coin()
    k = max(2, min(ctx.n, 4))
    gap = max(2, round(20 * (1 - ctx.level)))
    base = 10 + int(ctx.s.integers(0, 30))
    temps = [base + gap * o for o in sorted(ctx.sample(range(0, 5), k))]
    target = temps[-1] if more else temps[0]
    word = "more" if more else "less"
    fmt = f"the {obj} at {{}}°C"
    return Item(f"Which object has {word} thermal energy?", fmt.format(target),
                [fmt.format(t) for t in temps if t != target],
                f"The objects are the same except for temperature. The {obj} at {target}°C is the "
                f"{'hottest' if more else 'coldest'}, so it has the {'most' if more else 'least'} "
                "thermal energy.",
                hint="The objects are identical except for their temperatures.")


def circuits(ctx: Ctx) -> Item:
    n = 2 if ctx.grade >= 6 else 1
    p_closed = 0.5 ** (1 / n)  # about half of the circuits light up, however many switches
    closed = [ctx.coin(p_closed) for _ in range(n)]
    battery_right = ctx.coin()
    side = "right" if battery_right else "left"
    lit = all(closed)
    states = ["closed" if c else "open" for c in closed]
    if n == 1:
        caption = f"A circuit with a battery on the {side}, a light bulb, and one switch that is {states[0]}."
    else:
        caption = (f"A circuit with a battery on the {side}, a light bulb, and two switches in a row: the first is "
                   f"{states[0]} and the second is {states[1]}.")
    if lit:
        sol = "Every switch is closed, so the circuit is complete. Current flows and the bulb lights up."
    else:
        which = "The switch" if n == 1 else ("Both switches are" if not any(closed) else
                                            f"The {'first' if not closed[0] else 'second'} switch")
        verb = "" if which.endswith("are") else " is"
        sol = f"{which}{verb} open, so the circuit is broken. No current flows, so the bulb stays off."
    q = ctx.spick(("Will the light bulb turn on?", "Will the bulb light up?", "Does the bulb in this circuit light up?"))
    return Item(q, "yes" if lit else "no", ["no" if lit else "yes"], sol,
                draw=partial(render.circuit, closed, battery_right), caption=caption)


CONDUCTORS = {
    "conductor": ("copper wire", "iron nail", "aluminum foil", "steel spoon", "silver ring", "brass key"),
    "insulator": ("rubber glove", "plastic ruler", "wooden spoon", "glass marble", "cotton shirt",
                  "ceramic mug"),
}


def conductors(ctx: Ctx) -> Item:
    cls = ctx.pick(list(CONDUCTORS))
    x = ctx.pick(CONDUCTORS[cls])
    wrong = ctx.sample(others(CONDUCTORS, cls), ctx.n - 1)
    q = ("Which object is the best electrical conductor?" if cls == "conductor"
         else "Which object is the best electrical insulator?")
    what = "metal, which lets" if cls == "conductor" else "a material that does not let"
    return Item(q, f"{article(x)} {x}", [f"{article(w)} {w}" for w in wrong],
                f"The {x} is made of {what} electric current flow easily.")


MAGNETIC = {
    "magnetic": ("iron nail", "steel paper clip", "steel spoon", "iron key"),
    "nonmagnetic": ("plastic cup", "wooden block", "glass marble", "copper coin", "aluminum can",
                    "rubber band"),
}


def magnetic_materials(ctx: Ctx) -> Item:
    cls = ctx.pick(list(MAGNETIC))
    x = ctx.pick(MAGNETIC[cls])
    wrong = ctx.sample(others(MAGNETIC, cls), ctx.n - 1)
    if cls == "magnetic":
        return Item("Which object will a magnet attract?", f"{article(x)} {x}", [f"{article(w)} {w}" for w in wrong],
                    f"The {x} contains iron, so a magnet attracts it.")
    return Item("Which object will a magnet not attract?", f"{article(x)} {x}", [f"{article(w)} {w}" for w in wrong],
                f"The {x} has no iron, nickel, or cobalt in it, so a magnet does not attract it.")


def balance(ctx: Ctx) -> Item:
    left, right = ctx.sample(("red", "blue", "green", "yellow", "purple", "orange"), 2)
    allow_same = ctx.grade >= 4 and ctx.n >= 3
    tilt = 0 if allow_same and ctx.coin(1 / 3) else ctx.pick((-1, 1))
    same = "They have the same mass."
    if tilt == 0:
        correct, wrong = same, [f"the {left} box", f"the {right} box"]
        sol = "The balance is level, so the two boxes have the same mass."
        how = "the balance is level"
    else:
        heavy, light = (left, right) if tilt < 0 else (right, left)
        side = "left" if tilt < 0 else "right"
        correct, wrong = f"the {heavy} box", [f"the {light} box"] + ([same] if allow_same else [])
        sol = f"The heavier side of a balance goes down. The {side} side is lower, so the {heavy} box is heavier."
        how = f"the {side} side is lower"
    box = ctx.integer(9, 14)
    return Item("Which box is heavier?", correct, wrong, sol, draw=partial(render.balance, left, right, tilt, box),
                caption=f"A pan balance with {article(left)} {left} box on the left and {article(right)} {right} box on "
                        f"the right; {how}.")


# ---------------------------------------------------------------------------- chemistry

STATES = {
    "solid": ("a rock", "an ice cube", "a pencil", "a coin", "a wooden chair", "a glass bottle", "a brick",
              "a shoe", "a crayon", "a seashell"),
    "liquid": ("milk", "orange juice", "rain", "vinegar", "olive oil", "lemonade", "maple syrup", "shampoo",
               "apple juice", "melted butter"),
    "gas": ("steam", "the air inside a balloon", "oxygen", "water vapor", "carbon dioxide", "the air in a bike tire",
            "helium", "the bubbles in soda", "nitrogen", "the air in a soccer ball"),
}
STATE_WHY = {"solid": "A solid has its own shape.",
             "liquid": "A liquid takes the shape of its container but keeps its volume.",
             "gas": "A gas spreads out to fill all the space in its container."}


def states_of_matter(ctx: Ctx) -> Item:
    labels = list(STATES)
    cls = ctx.pick(labels)
    x = ctx.pick(STATES[cls])
    if ctx.n > 3 or ctx.coin(0.35):
        wrong = ctx.sample(others(STATES, cls), ctx.n - 1)
        return Item(f"Select the {cls}.", x, wrong, f"{cap(x)} is {article(cls)} {cls}. {STATE_WHY[cls]}")
    wrong = ctx.sample([c for c in labels if c != cls], ctx.n - 1)
    shown = [c for c in labels if c == cls or c in wrong]
    joined = (" or ".join(f"a {c}" for c in shown) if len(shown) == 2
              else f"a {shown[0]}, a {shown[1]}, or a {shown[2]}")
    return Item(f"Is {x} {joined}?", f"a {cls}", [f"a {c}" for c in wrong],
                f"{cap(x)} is a {cls}. {STATE_WHY[cls]}")


CHANGES = {
    "physical": ("melting an ice cube", "breaking a glass", "cutting paper", "boiling water",
                 "dissolving sugar in water", "folding a towel", "chopping wood", "mixing sand and gravel"),
    "chemical": ("burning wood", "baking a cake", "cooking an egg", "milk going sour",
                 "rust forming on a nail", "digesting food", "lighting a match", "a banana rotting"),
}


def changes(ctx: Ctx) -> Item:
    cls = ctx.pick(list(CHANGES))
    x = ctx.pick(CHANGES[cls])
    why = ("No new matter forms; only the form or state of the matter changes." if cls == "physical"
           else "A different type of matter forms.")
    if ctx.n > 2:
        wrong = ctx.sample(others(CHANGES, cls), ctx.n - 1)
        return Item(f"Which change is a {cls} change?", x, wrong, f"{cap(x)} is a {cls} change. {why}")
    other = "chemical" if cls == "physical" else "physical"
    return Item(f"Complete the sentence.\n{cap(x)} is a ___.", f"{cls} change", [f"{other} change"],
                f"{cap(x)} is a {cls} change. {why}")


def concentration(ctx: Ctx) -> Item:
    allow_same = ctx.n >= 3 and ctx.grade >= 8
    a = ctx.integer(2, 10)
    if allow_same and ctx.coin(1 / 4):
        b = a
    else:
        spread = 1 if ctx.level > 0.6 else 4
        b = ctx.pick([v for v in range(1, 13) if v != a and abs(v - a) <= spread])
    positions = [grid_points(ctx, 12, 4, 4, margin=0) for _ in range(2)]
    # grid_points works in picture pixels; beakers() wants unit-square positions.
    unit = [[(x / render.SIZE, y / render.SIZE) for x, y in ps] for ps in positions]
    texts = {"A": "Solution A", "B": "Solution B", "same": "neither; their concentrations are the same"}
    which = "same" if a == b else ("A" if a > b else "B")
    wrong = [texts[k] for k in ("A", "B", "same") if k != which and (k != "same" or allow_same)]
    if which == "same":
        sol = f"Both solutions have {a} particles in 25 mL of water, so their concentrations are the same."
    else:
        sol = (f"Both solutions have 25 mL of water. Solution A has {a} particles and Solution B has {b}, "
               f"so Solution {which} has the higher concentration.")
    return Item("Which solution has a higher concentration of purple particles?", texts[which], wrong, sol,
                draw=partial(render.beakers, [a, b], unit),
                caption=f"Two beakers each hold 25 mL of water: Solution A has {a} purple particles and "
                        f"Solution B has {b} purple particles.")


MOLECULES: dict[str, tuple[str, list[tuple[str, tuple[float, float]]], list[tuple[int, int]]]] = {
    "hydrogen": ("H2", [("H", (-0.4, 0)), ("H", (0.4, 0))], [(0, 1)]),
    "oxygen": ("O2", [("O", (-0.4, 0)), ("O", (0.4, 0))], [(0, 1)]),
    "nitrogen": ("N2", [("N", (-0.4, 0)), ("N", (0.4, 0))], [(0, 1)]),
    "chlorine": ("Cl2", [("Cl", (-0.4, 0)), ("Cl", (0.4, 0))], [(0, 1)]),
    "ozone": ("O3", [("O", (-0.65, 0.3)), ("O", (0, -0.2)), ("O", (0.65, 0.3))], [(0, 1), (1, 2)]),
    "water": ("H2O", [("O", (0, -0.2)), ("H", (-0.6, 0.35)), ("H", (0.6, 0.35))], [(0, 1), (0, 2)]),
    "carbon dioxide": ("CO2", [("O", (-0.7, 0)), ("C", (0, 0)), ("O", (0.7, 0))], [(0, 1), (1, 2)]),
    "methane": ("CH4", [("C", (0, 0)), ("H", (0, -0.7)), ("H", (0.7, 0)), ("H", (0, 0.7)),
                        ("H", (-0.7, 0))], [(0, 1), (0, 2), (0, 3), (0, 4)]),
    "ammonia": ("NH3", [("N", (0, 0)), ("H", (-0.65, 0.4)), ("H", (0.65, 0.4)), ("H", (0, -0.72))],
                [(0, 1), (0, 2), (0, 3)]),
    "hydrogen chloride": ("HCl", [("H", (-0.5, 0)), ("Cl", (0.35, 0))], [(0, 1)]),
}
ELEMENTS = {"H": ("white", "hydrogen"), "O": ("red", "oxygen"), "C": ("black", "carbon"),
            "N": ("blue", "nitrogen"), "Cl": ("green", "chlorine")}


def _molecule_caption(atoms: list[tuple[str, tuple[float, float]]]) -> str:
    counts: dict[str, int] = {}
    for el, _ in atoms:
        counts[el] = counts.get(el, 0) + 1
    parts = [f"{NUMBER_WORDS[c]} {ELEMENTS[el][0]} {ELEMENTS[el][1]} atom{'s' if c > 1 else ''}"
             for el, c in counts.items()]
    return f"A ball-and-stick model of a molecule made of {join_words(parts)}."


def molecules(ctx: Ctx) -> Item:
    name = ctx.pick(list(MOLECULES))
    formula, atoms, bonds = MOLECULES[name]
    kinds = sorted({el for el, _ in atoms})
    draw = partial(render.molecule, atoms, bonds)
    caption = _molecule_caption(atoms)
    if ctx.grade >= 10 and ctx.n >= 3:
        wrong = ctx.sample([f for f, _, _ in MOLECULES.values() if f != formula], ctx.n - 1)
        return Item("Which chemical formula matches this ball-and-stick model?", formula, wrong,
                    f"The model has {caption.split('made of ')[1][:-1]}. So, the formula is {formula}.",
                    draw=draw, caption=caption)
    elementary = len(kinds) == 1
    correct, wrong = (("an elementary substance", "a compound") if elementary
                      else ("a compound", "an elementary substance"))
    why = ("atoms of only one chemical element" if elementary
           else f"atoms of {NUMBER_WORDS[len(kinds)]} different chemical elements")
    return Item("Is the substance in this model an elementary substance or a compound?", correct, [wrong],
                f"The model shows {why}, so the substance is {correct}.", draw=draw, caption=caption)


FORMULAS = (
    ("silicon", "Si"), ("sodium chloride", "NaCl"), ("iron", "Fe"), ("helium", "He"),
    ("sulfur dioxide", "SO2"), ("glucose", "C6H12O6"), ("fluorine", "F2"), ("copper", "Cu"),
    ("ethane", "C2H6"), ("potassium iodide", "KI"), ("neon", "Ne"), ("silver", "Ag"),
    ("ammonia", "NH3"), ("ozone", "O3"), ("calcium carbonate", "CaCO3"), ("bromine", "Br2"),
)


def formula_classify(ctx: Ctx) -> Item:
    name, formula = ctx.pick(FORMULAS)
    symbols = {c + (formula[i + 1] if i + 1 < len(formula) and formula[i + 1].islower() else "")
               for i, c in enumerate(formula) if c.isupper()}
    elementary = len(symbols) == 1
    correct, wrong = (("an elementary substance", "a compound") if elementary
                      else ("a compound", "an elementary substance"))
    count = "one chemical element" if elementary else f"{NUMBER_WORDS[len(symbols)]} chemical elements"
    return Item(f"Complete the statement.\n{cap(name)} is ___.", correct, [wrong],
                f"The formula {formula} has symbols for {count}, so {name} is {correct}.",
                hint=f"The chemical formula for {name} is {formula}.")


PROPERTIES = {
    "hard": ("rock", "brick", "wooden block", "metal spoon"),
    "soft": ("pillow", "cotton ball", "wool hat", "sponge"),
    "sticky": ("honey", "tape", "glue", "maple syrup"),
    "bouncy": ("rubber ball", "basketball", "trampoline", "bouncy castle"),
}


def properties(ctx: Ctx) -> Item:
    prop = ctx.pick(list(PROPERTIES))
    x = ctx.pick(PROPERTIES[prop])
    wrong = ctx.sample(others(PROPERTIES, prop), ctx.n - 1)
    return Item(f"Which is {prop}?", x, wrong, f"{cap(article(x))} {x} is {prop}.")


# ---------------------------------------------------------------------------- earth and space

#: Weather and climate passages are composed from a time (weather) or frequency (climate)
#: phrase, a town and an event or pattern. The time words are the cue the lecture teaches.
WEATHER_TIMES = ("On Monday", "Last night", "This morning", "Yesterday afternoon", "On Saturday", "Earlier today")
WEATHER_EVENTS = ("had heavy rain and strong winds", "was foggy and cool", "got a light snowfall",
                  "had a loud thunderstorm", "was hot and sunny", "had a short hailstorm")
CLIMATE_TIMES = ("Most years", "Every winter", "Each summer", "Usually", "In a typical year", "Every spring")
CLIMATE_PATTERNS = ("gets a lot of snow", "has mild, rainy weather", "is hot and humid", "gets strong winds",
                    "has long dry spells", "stays cool and cloudy")


def weather_climate(ctx: Ctx) -> Item:
    is_weather = ctx.coin()
    town = ctx.town()
    if is_weather:
        passage = f"{ctx.pick(WEATHER_TIMES)}, {town} {ctx.pick(WEATHER_EVENTS)}."
    else:
        passage = f"{ctx.pick(CLIMATE_TIMES)}, {town} {ctx.pick(CLIMATE_PATTERNS)}."
    correct, wrong = ("weather", "climate") if is_weather else ("climate", "weather")
    why = ("It tells about the atmosphere at one place and time." if is_weather
           else "It tells about the usual pattern of weather over many years.")
    return Item("Does this passage describe the weather or the climate?", correct, [wrong],
                f"{why} So, the passage describes the {correct}.", hint=passage)


ROCKS_MINERALS = {
    "mineral": ("quartz", "calcite", "halite", "gypsum", "talc", "mica", "pyrite", "fluorite"),
    "rock": ("granite", "basalt", "marble", "sandstone", "limestone", "obsidian", "slate", "shale"),
}


def rocks_minerals(ctx: Ctx) -> Item:
    cls = ctx.pick(list(ROCKS_MINERALS))
    x = ctx.pick(ROCKS_MINERALS[cls])
    why = ("It is a pure, solid substance with a fixed crystal structure." if cls == "mineral"
           else "It is made of one or more minerals.")
    if ctx.n > 2:
        wrong = ctx.sample(others(ROCKS_MINERALS, cls), ctx.n - 1)
        return Item(f"Select the {cls}.", x, wrong, f"{cap(x)} is a {cls}. {why}")
    other = "rock" if cls == "mineral" else "mineral"
    return Item(f"Is {x} a mineral or a rock?", cls, [other], f"{cap(x)} is a {cls}. {why}")


ROCK_TYPES = {
    "igneous": ("granite", "basalt", "obsidian", "pumice"),
    "sedimentary": ("sandstone", "limestone", "shale", "conglomerate"),
    "metamorphic": ("marble", "slate", "gneiss", "quartzite"),
}
ROCK_WHY = {"igneous": "forms when melted rock cools and hardens",
            "sedimentary": "forms when layers of sediment are pressed together",
            "metamorphic": "forms when heat and pressure change another rock"}


def rock_types(ctx: Ctx) -> Item:
    cls = ctx.pick(list(ROCK_TYPES))
    x = ctx.pick(ROCK_TYPES[cls])
    if ctx.n > 3 or ctx.coin(0.4):
        wrong = ctx.sample(others(ROCK_TYPES, cls), ctx.n - 1)
        return Item(f"Select the {cls} rock.", x, wrong, f"{cap(x)} is {article(cls)} {cls} rock. It {ROCK_WHY[cls]}.")
    wrong = ctx.sample([c for c in ROCK_TYPES if c != cls], ctx.n - 1)
    return Item(f"What type of rock is {x}?", cls, wrong, f"{cap(x)} is {article(cls)} {cls} rock. It {ROCK_WHY[cls]}.")


EARTH_CHANGES = {
    "fast": ("a landslide", "an earthquake", "a volcanic eruption", "a flood washing away a riverbank",
             "a sinkhole opening", "a rockfall", "a mudslide", "a storm surge flooding a beach"),
    "slow": ("a river carving a canyon", "a glacier shaping a valley", "wind wearing down a rock",
             "waves grinding rocks into sand", "sediment building up a delta", "roots slowly cracking a boulder",
             "rain dissolving limestone", "a mountain range rising"),
}
EARTH_PLACES = ("near a mountain town", "in a desert", "along a coast", "in a river valley", "on an island",
                "in a national park")


def fast_slow(ctx: Ctx) -> Item:
    cls = ctx.pick(list(EARTH_CHANGES))
    x = f"{ctx.pick(EARTH_CHANGES[cls])} {ctx.pick(EARTH_PLACES)}"
    other = "slow" if cls == "fast" else "fast"
    how = "in minutes or hours" if cls == "fast" else "over many years"
    q = ctx.spick((f"Complete the sentence.\n{cap(x)} is a ___ change to Earth's surface.",
                   f"Is {x} a fast or a slow change to Earth's surface?"))
    return Item(q, cls, [other], f"{cap(x)} changes Earth's surface {how}. So, it is a {cls} change.")


RESOURCES = {
    "renewable": ("sunlight", "wind", "wood", "cotton", "fresh water", "corn"),
    "nonrenewable": ("coal", "oil", "natural gas", "copper", "iron ore", "gold"),
}


def resources(ctx: Ctx) -> Item:
    cls = ctx.pick(list(RESOURCES))
    x = ctx.pick(RESOURCES[cls])
    why = ("It can be replaced by nature within a human lifetime." if cls == "renewable"
           else "Nature takes a very long time to replace it.")
    if ctx.n > 2:
        wrong = ctx.sample(others(RESOURCES, cls), ctx.n - 1)
        return Item(f"Which natural resource is {cls}?", x, wrong, f"{cap(x)} is a {cls} resource. {why}")
    other = "nonrenewable" if cls == "renewable" else "renewable"
    return Item(f"Is {x} a renewable or a nonrenewable resource?", f"a {cls} resource",
                [f"a {other} resource"], f"{cap(x)} is a {cls} resource. {why}")


MOON_DESCRIPTIONS = {
    "new moon": "the whole disk is dark",
    "waxing crescent": "only a thin curved sliver on the right is lit",
    "first quarter": "the right half is lit",
    "waxing gibbous": "more than half is lit and the dark part is on the left",
    "full moon": "the whole disk is lit",
    "waning gibbous": "more than half is lit and the dark part is on the right",
    "third quarter": "the left half is lit",
    "waning crescent": "only a thin curved sliver on the left is lit",
}
MAIN_PHASES = ("new moon", "first quarter", "full moon", "third quarter")


def moon(ctx: Ctx) -> Item:
    if ctx.grade <= 3:
        options = ctx.sample(MAIN_PHASES, ctx.n)
    else:
        # Neighbouring phases look most alike: a run of consecutive phases round the cycle.
        start = ctx.integer(0, 7)
        step = spacing_for(ctx)
        options = [render.MOON_PHASES[(start + step * j) % 8] for j in range(ctx.n)]
    phase = ctx.pick(options)
    desc = MOON_DESCRIPTIONS[phase]
    n_stars = ctx.integer(0, 6)
    # Stars sit in the corners, outside the Moon's disk.
    stars = [(x, y) for x, y in grid_points(ctx, n_stars, 6, 6, margin=4) if (x - 64) ** 2 + (y - 64) ** 2 > 56 ** 2]
    radius = ctx.integer(40, 50)
    sky = f"a night sky with {NUMBER_WORDS[len(stars)]} star{'s' if len(stars) != 1 else ''}" if stars else "a dark sky"
    return Item("Which phase of the Moon is shown?", phase, [p for p in options if p != phase],
                f"In the picture, {desc}. That is the {phase}.", draw=partial(render.moon, phase, stars, radius),
                caption=f"The Moon in {sky}: {desc}.")


PLANETS = ("Mercury", "Venus", "Earth", "Mars", "Jupiter", "Saturn", "Uranus", "Neptune")
BY_SIZE = ("Jupiter", "Saturn", "Uranus", "Neptune", "Earth", "Venus", "Mars", "Mercury")


def planets(ctx: Ctx) -> Item:
    shown = ctx.sample(PLANETS, max(2, ctx.n))
    mode = ctx.pick(("closest", "farthest", "largest"))
    if mode == "largest":
        target = min(shown, key=BY_SIZE.index)
        q = "Which of these planets is the largest?"
        sol = f"From largest to smallest, the planets are {join_words(list(BY_SIZE))}. So, {target} is largest."
    else:
        key = PLANETS.index
        target = min(shown, key=key) if mode == "closest" else max(shown, key=key)
        q = f"Which of these planets is {mode} {'to' if mode == 'closest' else 'from'} the Sun?"
        sol = f"In order from the Sun, the planets are {join_words(list(PLANETS))}. So, {target} is {mode}."
    return Item(q, target, [p for p in shown if p != target], sol)


MONTHS = ("January", "February", "March", "April", "May", "June")


def rainfall(ctx: Ctx) -> Item:
    months = MONTHS[: 6 if ctx.grade >= 6 else 4]
    most = ctx.coin()
    top = ctx.integer(6, 10) if most else ctx.integer(1, 4)
    gap = 1 if ctx.level > 0.5 else 3
    if most:
        values = [ctx.integer(1, top - gap) for _ in months]
    else:
        values = [ctx.integer(top + gap, 10) for _ in months]
    e = ctx.integer(0, len(months) - 1)
    values[e] = top
    correct = months[e]
    wrong = ctx.sample([m for m in months if m != correct], ctx.n - 1)
    word = "most" if most else "least"
    listing = ", ".join(f"{m} {v} cm" for m, v in zip(months, values, strict=True))
    return Item(f"The bar graph shows the rainfall in {ctx.town()}. Which month had the {word} rainfall?",
                correct, wrong,
                f"The {'tallest' if most else 'shortest'} bar is {correct}'s, with {top} cm of rain. "
                f"So, {correct} had the {word} rainfall.",
                draw=partial(render.bar_chart, values, [m[:3] for m in months], 10.0),
                caption=f"A bar graph of monthly rainfall: {listing}.")


# ---------------------------------------------------------------------------- units and measurement

LENGTHS = (("a pencil", 15, "centimeters"), ("a school bus", 12, "meters"), ("a hiking trail", 8, "kilometers"),
           ("an ant", 4, "millimeters"), ("a soccer field", 100, "meters"), ("a crayon", 9, "centimeters"),
           ("a ladybug", 6, "millimeters"), ("the road between two towns", 40, "kilometers"),
           ("a bed", 2, "meters"), ("a paper clip", 3, "centimeters"))
LENGTH_UNITS = ("millimeters", "centimeters", "meters", "kilometers")
MASSES = (("an apple", 150, "grams"), ("a dog", 30, "kilograms"), ("a pencil", 6, "grams"),
          ("a bicycle", 12, "kilograms"), ("a strawberry", 20, "grams"), ("a watermelon", 5, "kilograms"),
          ("an elephant", 5, "metric tons"), ("a school bus", 11, "metric tons"),
          ("a bag of flour", 2, "kilograms"), ("a slice of bread", 30, "grams"))
MASS_UNITS = ("grams", "kilograms", "metric tons")
VOLUMES = (("a spoonful of medicine", 5, "milliliters"), ("a bathtub", 200, "liters"),
           ("a glass of milk", 250, "milliliters"), ("a bucket", 10, "liters"), ("a fish tank", 40, "liters"),
           ("a bottle of perfume", 50, "milliliters"), ("a kitchen sink", 20, "liters"),
           ("a teacup", 180, "milliliters"))
VOLUME_UNITS = ("milliliters", "liters")


def _unit_skill(table: tuple[tuple[str, int, str], ...], units: tuple[str, ...], question: str):
    def make(ctx: Ctx) -> Item:
        thing, value, unit = ctx.pick(table)
        wrong = ctx.sample([u for u in units if u != unit], ctx.n - 1)
        w = wrong[0]
        size = "big" if units.index(w) > units.index(unit) else "small"
        return Item(question.format(thing), f"{value} {unit}", [f"{value} {u}" for u in wrong],
                    f"The best estimate for {thing} is {value} {unit}. {value} {w} would be far too {size}.")

    return make


def thermometer(ctx: Ctx) -> Item:
    if ctx.grade <= 3:
        lo, hi, major, minor, step = 0, 50, 10, 10, 10
    elif ctx.grade <= 5:
        lo, hi, major, minor, step = 0, 50, 10, 5, 5
    else:
        lo, hi, major, minor, step = -20, 40, 10, 2, 2
    value, wrong = window_choices(ctx, range(lo, hi + 1, step), ctx.n, spacing_for(ctx))
    return Item("What temperature does the thermometer show?", f"{value}°C", [f"{w}°C" for w in wrong],
                f"Find the top of the red liquid and read the scale. The liquid reaches {value}°C.",
                draw=partial(render.thermometer, value, lo, hi, major, minor),
                caption=f"A Celsius thermometer marked from {lo} to {hi}; the red liquid reaches {value}°C.")


def ruler(ctx: Ctx) -> Item:
    step = 0.5 if ctx.grade >= 3 else 1.0
    grid = [step * k for k in range(int(1 / step), int(10 / step) + 1)]
    length, wrong = window_choices(ctx, grid, ctx.n, spacing_for(ctx))
    color = ctx.spick(("red", "blue", "green", "orange", "purple"))
    shown = fmt_number(length)
    return Item(f"Use the ruler to find the length of the {color} bar. How long is it?", f"{shown} centimeters",
                [f"{fmt_number(w)} centimeters" for w in wrong],
                f"The bar starts at 0 and ends at {shown} on the ruler, so it is {shown} centimeters long.",
                draw=partial(render.ruler, length, color),
                caption=f"A {color} bar above a centimeter ruler; the bar starts at 0 and ends at {shown} cm.")


def clock(ctx: Ctx) -> Item:
    minute_options = (0,) if ctx.grade <= 2 else ((0, 30) if ctx.grade == 3 else (0, 15, 30, 45))
    times = [(h, m) for h in range(1, 13) for m in minute_options]
    (hour, minute), wrong = window_choices(ctx, times, ctx.n, spacing_for(ctx))

    def fmt(t: tuple[int, int]) -> str:
        return f"{t[0]}:{t[1]:02d}"

    correct = fmt((hour, minute))
    hand = {0: "12", 15: "3", 30: "6", 45: "9"}[minute]
    return Item("What time does the clock show?", correct, [fmt(t) for t in wrong],
                f"The minute hand points to {hand} and the short hour hand points {'to' if minute == 0 else 'just past'} "
                f"{hour}. So, the time is {correct}.",
                draw=partial(render.clock, hour, minute),
                caption=f"An analog clock whose minute hand points to {hand} and whose hour hand is at {hour}; "
                        f"it shows {correct}.")


# ---------------------------------------------------------------------------- science practices

BASIC_COLORS = ("red", "blue", "yellow", "green")
ALL_COLORS = ("red", "blue", "yellow", "green", "orange", "purple", "pink", "brown", "black")
BIG_SHAPES = ("circle", "square", "triangle", "star")


def colors(ctx: Ctx) -> Item:
    pool = BASIC_COLORS if ctx.grade <= 2 else ALL_COLORS
    if ctx.level > 0.3:
        # A set of look-alike colours (an anchor and its nearest neighbours); the answer is any of them.
        anchor = ctx.pick(pool)
        options = [anchor, *nearest_colors(anchor, pool)[: ctx.n - 1]]
    else:
        options = ctx.sample(pool, ctx.n)
    color = ctx.pick(options)
    wrong = [c for c in options if c != color]
    kind = ctx.pick(BIG_SHAPES)
    if ctx.grade >= 4:
        other_kind = ctx.pick([k for k in BIG_SHAPES if k != kind])
        # The other shape wears one of the wrong colours: the most tempting distractor.
        other_color = ctx.pick(wrong) if wrong else ctx.pick([c for c in pool if c != color])
        left_first = ctx.coin()
        xs = (34, 94) if left_first else (94, 34)
        items = [(kind, color, (xs[0], 64), 26), (other_kind, other_color, (xs[1], 64), 26)]
        side, other_side = ("left", "right") if left_first else ("right", "left")
        caption = f"{cap(article(color))} {color} {kind} on the {side} and {article(other_color)} {other_color} " \
                  f"{other_kind} on the {other_side}."
    else:
        size = ctx.integer(34, 48)
        items = [(kind, color, (64, 64), size)]
        caption = f"A big {color} {kind} on a plain background."
    q = ctx.spick((f"What color is the {kind}?", f"Which color is the {kind}?", f"What is the color of the {kind}?"))
    return Item(q, color, wrong, f"The {kind} in the picture is {color}.",
                draw=partial(render.shapes, items), caption=caption)


COUNT_KINDS = ("star", "circle", "triangle", "square")
COUNT_COLORS = ("red", "blue", "green", "orange", "purple")


def counting(ctx: Ctx) -> Item:
    lo, hi = (1, 5) if ctx.grade <= 2 else ((3, 8) if ctx.grade <= 4 else (5, 11))
    count, wrong = window_choices(ctx, range(lo, hi + 1), ctx.n, spacing_for(ctx))
    kind = ctx.pick(COUNT_KINDS)
    color = ctx.pick(COUNT_COLORS)
    extra = ctx.integer(1, 3) if ctx.grade >= 4 else 0
    pts = grid_points(ctx, count + extra, 4, 4)
    items = [(kind, color, p, 10.0) for p in pts[:count]]
    caption = f"{count} {color} {kind}{'s' if count > 1 else ''}"
    if extra:
        other_kind = ctx.pick([k for k in COUNT_KINDS if k != kind])
        other_color = ctx.pick([c for c in COUNT_COLORS if c != color])
        items += [(other_kind, other_color, p, 10.0) for p in pts[count:]]
        caption += f" and {extra} {other_color} {other_kind}{'s' if extra > 1 else ''}"
    plural = f"{kind}s"
    return Item(f"How many {plural} are there?", str(count), [str(w) for w in wrong],
                f"Count the {plural} one by one: there are {count}.",
                draw=partial(render.shapes, items), caption=cap(caption) + ".")


SHAPE_POOL_EASY = ("circle", "square", "triangle", "star")
SHAPE_POOL_HARD = ("circle", "square", "triangle", "star", "rectangle", "diamond", "pentagon", "hexagon",
                   "octagon")
#: Look-alike groups: at higher grades the choices come from one group.
SHAPE_GROUPS = (("pentagon", "hexagon", "octagon", "circle"), ("square", "rectangle", "diamond", "triangle"),
                ("star", "pentagon", "diamond", "hexagon"))
SIDES = {"triangle": "3 straight sides", "square": "4 equal sides and square corners",
         "rectangle": "4 sides, with two long sides and two short sides", "diamond": "4 equal sides tipped on a corner",
         "pentagon": "5 sides", "hexagon": "6 sides", "octagon": "8 sides", "circle": "no corners at all",
         "star": "5 points"}


def shapes(ctx: Ctx) -> Item:
    if ctx.grade <= 2:
        options = ctx.sample(SHAPE_POOL_EASY, ctx.n)
    else:
        group = ctx.pick(SHAPE_GROUPS) if ctx.level > 0.2 else SHAPE_POOL_HARD
        options = fill(ctx, group, SHAPE_POOL_HARD, ctx.n)
    kind = ctx.pick(options)
    color = ctx.spick(("red", "blue", "green", "orange", "purple"))
    size = ctx.integer(36, 48)
    return Item("What shape is this?", kind, [s for s in options if s != kind],
                f"The shape has {SIDES[kind]}. It is {article(kind)} {kind}.",
                draw=partial(render.shapes, [(kind, color, (64, 64), size)]),
                caption=f"A big {color} {kind} on a plain background.")


TRENDS = {"up": "It went up.", "down": "It went down.", "same": "It stayed the same.",
          "updown": "It went up and then down."}


def line_graph(ctx: Ctx) -> Item:
    options = ["up", "down", "same"] + (["updown"] if ctx.grade >= 8 else [])
    trend = ctx.pick(options)
    slope = 2.0 - 1.2 * ctx.level  # gentler slopes at higher grades
    start = ctx.integer(2, 4) if trend in ("up", "updown") else ctx.integer(6, 8)
    if trend == "up":
        values = [start + slope * k for k in range(5)]
    elif trend == "down":
        values = [start - slope * k for k in range(5)]
    elif trend == "same":
        values = [float(ctx.integer(3, 7))] * 5
    else:
        values = [start + slope * k for k in range(3)] + [start + slope * (4 - k) for k in range(3, 5)]
    values = [max(0.0, min(10.0, v)) for v in values]
    wrong = ctx.sample([TRENDS[t] for t in options if t != trend], ctx.n - 1)
    town = ctx.town()
    desc = {"up": "rises from left to right", "down": "falls from left to right", "same": "is flat",
            "updown": "rises and then falls"}[trend]
    return Item(f"The graph shows the temperature in {town} over five days. How did the temperature change?",
                TRENDS[trend], wrong, f"The line {desc}. {TRENDS[trend]}",
                draw=partial(render.line_graph, values),
                caption=f"A line graph of temperature over five days; the line {desc}.")


# ---------------------------------------------------------------------------- the skills

#: This subject's part of the catalogue, one row per skill (columns: core.SKILL_COLUMNS;
#: ``max_choices`` defaults to 5), read by core.build_skills. Frequencies live in catalog.RANKING.
SKILL_TABLE: tuple[dict[str, Any], ...] = (
    {"key": "animal_class", "topic": "biology", "category": "Classification",
     "name": "Identify mammals, birds, fish, reptiles, and amphibians",
     "grades": (1, 10), "image": False, "make": animal_class,
     "rule": "Look at each animal's traits to decide its group.",
     "lecture": ("Scientists sort animals into groups by their traits. " + " ".join(ANIMAL_TRAITS.values()) + " "
                 + _listing(ANIMALS, {"fish": "fish"}))},
    {"key": "vertebrates", "topic": "biology", "category": "Classification",
     "name": "Identify vertebrates and invertebrates",
     "grades": (2, 9), "image": False, "make": vertebrates,
     "rule": "Vertebrates have a backbone and invertebrates do not.",
     "lecture": "A vertebrate has a backbone; an invertebrate does not. " + _listing(VERTEBRATES)},
    {"key": "food_web", "topic": "biology", "category": "Ecological interactions",
     "name": "Interpret food webs",
     "grades": (5, 12), "image": True, "make": food_web,
     "rule": "In a food web, an arrow points from food to the organism that eats it.",
     "lecture": ("A food web is a model of how matter moves through an ecosystem. Each arrow starts "
                 "at an organism and points to the organism that eats it. Producers, such as grass, "
                 "berry bushes, and clover, make their own food. Herbivores eat producers, and "
                 "carnivores eat other animals. To find what eats an organism, follow the arrows "
                 "that start at it.")},
    {"key": "plant_parts", "topic": "biology", "category": "Plants",
     "name": "Identify plant parts and their functions",
     "grades": (1, 7), "image": True, "max_choices": 4, "make": plant_parts,
     "rule": "Each part of a plant has its own job.",
     "lecture": ("Plants have parts that each do a job. The roots take in water and nutrients from "
                 "the soil. The stem holds up the plant and carries water to the leaves. The leaves "
                 "make food for the plant using sunlight. The flower makes seeds.")},
    {"key": "organelles", "topic": "biology", "category": "Cells",
     "name": "Identify functions of cell parts",
     "grades": (6, 12), "image": False, "make": organelles,
     "rule": "Each cell part has its own job.",
     "lecture": "Cells have parts that each do a job. " + " ".join(f"The {p} {j}." for p, j in ORGANELLES.items())},
    {"key": "inherited_acquired", "topic": "biology", "category": "Traits",
     "name": "Identify inherited and acquired traits",
     "grades": (3, 8), "image": False, "max_choices": 2, "make": inherited_acquired,
     "rule": ("Inherited traits come from genes; acquired traits are learned or come from the "
              "surroundings."),
     "lecture": ("An inherited trait is passed from parents to children through genes, such as eye "
                 "color or freckles. An acquired trait is learned or comes from a person's "
                 "surroundings, such as knowing how to swim, speaking a language, or having a scar.")},
    {"key": "genotype", "topic": "biology", "category": "Heredity",
     "name": "Use genotypes and Punnett squares to predict phenotypes",
     "grades": (7, 12), "image": False, "make": genotype,
     "rule": "One dominant allele is enough to show the dominant trait.",
     "lecture": ("An organism's genotype is its combination of alleles for a gene; its phenotype is "
                 "the trait it shows. A dominant allele is written with a capital letter and a "
                 "recessive allele with a lowercase letter. An organism with at least one dominant "
                 "allele shows the dominant trait. Only an organism with two recessive alleles shows "
                 "the recessive trait. A Punnett square shows the four equally likely allele "
                 "combinations of the offspring of two parents.")},
    {"key": "adaptations", "topic": "biology", "category": "Adaptations",
     "name": "Identify animal adaptations",
     "grades": (3, 7), "image": False, "make": adaptations,
     "rule": "An animal's body fits the place where it lives.",
     "lecture": ("An adaptation is a body part or behavior that helps an animal survive where it lives. "
                 + " ".join(f"Adapted for {h}: {join_words(list(a))}." for h, a in ADAPTATIONS.items()))},
    {"key": "magnets_attract", "topic": "physics", "category": "Magnets",
     "name": "Predict whether magnets will attract or repel",
     "grades": (2, 10), "image": True, "max_choices": 2, "make": magnets_attract,
     "rule": "Opposite poles attract and like poles repel.",
     "lecture": ("Magnets can pull or push on each other without touching. When magnets attract, "
                 "they pull together; when they repel, they push apart. Every magnet has a north "
                 "pole (N) and a south pole (S). Opposite poles attract: N and S pull together. Like "
                 "poles repel: N and N, or S and S, push apart. To predict what two magnets will do, "
                 "look at the poles that face each other.")},
    {"key": "magnets_force", "topic": "physics", "category": "Magnets",
     "name": "Compare magnitudes of magnetic forces",
     "grades": (5, 10), "image": True, "max_choices": 3, "make": magnets_force,
     "rule": "The smaller the distance between magnets, the greater the magnetic force.",
     "lecture": ("Magnets pull or push on each other with a magnetic force. The magnitude of the "
                 "force depends on the distance between the magnets: the closer they are, the "
                 "greater the magnetic force. When the distance is the same, the magnitude is the "
                 "same.")},
    {"key": "push_pull", "topic": "physics", "category": "Force and motion",
     "name": "Identify pushes and pulls",
     "grades": (1, 6), "image": False, "max_choices": 2, "make": push_pull,
     "rule": "A push moves things away and a pull moves things closer.",
     "lecture": ("A force is a push or a pull. A push moves an object away from you. A pull moves an "
                 "object toward you. Opening a drawer or picking an apple is a pull; closing a "
                 "drawer or kicking a ball is a push.")},
    {"key": "speed", "topic": "physics", "category": "Velocity, acceleration, and forces",
     "name": "Compare the speeds of moving objects",
     "grades": (5, 12), "image": False, "max_choices": 4, "make": speed,
     "rule": "For the same time, a longer distance means a higher speed.",
     "lecture": ("Speed tells how fast an object moves: the distance it travels in a unit of time. "
                 "When objects travel for the same amount of time, the object that goes farther has "
                 "the higher speed, and the object that goes the shortest distance has the lower "
                 "speed.")},
    {"key": "thermal", "topic": "physics", "category": "Thermal energy",
     "name": "Compare thermal energy and temperature",
     "grades": (5, 12), "image": False, "max_choices": 4, "make": thermal,
     "rule": "For identical objects, a higher temperature means more thermal energy.",
     "lecture": ("All matter is made of moving particles. Thermal energy is the energy of these "
                 "moving particles. Temperature measures how hot or cold matter is. When two objects "
                 "are made of the same matter and have the same mass, the hotter object has more "
                 "thermal energy and the colder object has less.")},
    {"key": "circuits", "topic": "physics", "category": "Electricity",
     "name": "Predict whether a circuit is complete",
     "grades": (3, 10), "image": True, "max_choices": 2, "make": circuits,
     "rule": "A bulb lights only when the circuit is closed all the way around.",
     "lecture": ("Electric current flows only through a closed circuit: an unbroken path from the "
                 "battery, through the bulb, and back. An open switch breaks the path, so no current "
                 "flows and the bulb stays off. When switches are in a row, every switch must be "
                 "closed for the bulb to light up.")},
    {"key": "conductors", "topic": "physics", "category": "Electricity",
     "name": "Identify electrical conductors and insulators",
     "grades": (3, 9), "image": False, "make": conductors,
     "rule": ("Metals are conductors; rubber, plastic, wood, glass, cotton, and ceramic are "
              "insulators."),
     "lecture": ("An electrical conductor lets electric current flow through it easily; metals are good conductors. "
                 "An insulator does not. " + _listing(CONDUCTORS))},
    {"key": "magnetic_materials", "topic": "physics", "category": "Magnets",
     "name": "Identify magnetic materials",
     "grades": (1, 5), "image": False, "make": magnetic_materials,
     "rule": "Magnets attract iron and steel.",
     "lecture": ("Magnets attract objects made of iron or steel, which contains iron. Magnets do not attract plastic, "
                 "wood, glass, copper, aluminum, or rubber. Attracted: " + join_words(list(MAGNETIC["magnetic"]))
                 + ". Not attracted: " + join_words(list(MAGNETIC["nonmagnetic"])) + ".")},
    {"key": "balance", "topic": "physics", "category": "Mass",
     "name": "Compare masses using a pan balance",
     "grades": (1, 8), "image": True, "max_choices": 3, "make": balance,
     "rule": "The heavier side of a balance goes down.",
     "lecture": ("A pan balance compares the masses of two objects. The side holding the heavier "
                 "object goes down, and the side holding the lighter object goes up. If the beam is "
                 "level, the two objects have the same mass.")},
    {"key": "states", "topic": "chemistry", "category": "States of matter",
     "name": "Identify solids, liquids, and gases",
     "grades": (1, 8), "image": False, "make": states_of_matter,
     "rule": "Solids keep their shape, liquids take the shape of their container, and gases fill it.",
     "lecture": ("Matter can be a solid, a liquid, or a gas. " + " ".join(STATE_WHY.values()) + " "
                 + _listing(STATES))},
    {"key": "changes", "topic": "chemistry", "category": "Physical and chemical change",
     "name": "Identify physical and chemical changes",
     "grades": (5, 12), "image": False, "make": changes,
     "rule": "A chemical change makes a new type of matter; a physical change does not.",
     "lecture": ("In a physical change, the form of matter changes but no new matter forms: "
                 + join_words(list(CHANGES["physical"])) + ". In a chemical change, a different type of matter forms: "
                 + join_words(list(CHANGES["chemical"])) + ".")},
    {"key": "concentration", "topic": "chemistry", "category": "Solutions",
     "name": "Compare concentrations of solutions",
     "grades": (6, 12), "image": True, "max_choices": 3, "make": concentration,
     "rule": "With equal volumes, more solute particles means a higher concentration.",
     "lecture": ("A solution is made of a solute dissolved in a solvent. The concentration of a "
                 "solute is how much of it is dissolved in a given volume of solvent: concentration "
                 "= particles of solute / volume of solvent. When the volumes are the same, the "
                 "solution with more solute particles has the higher concentration.")},
    {"key": "molecules", "topic": "chemistry", "category": "Atoms and molecules",
     "name": "Identify substances from ball-and-stick models",
     "grades": (7, 12), "image": True, "make": molecules,
     "rule": "An elementary substance has one element; a compound has two or more.",
     "lecture": ("A ball-and-stick model shows the atoms in a molecule as balls and the bonds as "
                 "sticks. Colors show the elements: white is hydrogen (H), red is oxygen (O), black "
                 "is carbon (C), blue is nitrogen (N), and green is chlorine (Cl). An elementary "
                 "substance is made of one element, such as O2. A compound is made of two or more "
                 "elements, such as H2O. The formula counts each kind of atom.")},
    {"key": "formulas", "topic": "chemistry", "category": "Atoms and molecules",
     "name": "Classify substances by their chemical formulas",
     "grades": (7, 12), "image": False, "max_choices": 2, "make": formula_classify,
     "rule": "Count the different element symbols in the formula.",
     "lecture": ("A chemical formula uses symbols to show the elements in a substance. Each symbol "
                 "starts with a capital letter, such as Fe or C. A formula with one symbol, such as "
                 "Ne or O3, is an elementary substance. A formula with two or more different "
                 "symbols, such as NaCl or CO2, is a compound.")},
    {"key": "properties", "topic": "chemistry", "category": "Materials",
     "name": "Identify properties of an object",
     "grades": (1, 4), "image": False, "make": properties,
     "rule": "Each object is described by the property it shows.",
     "lecture": ("A property is something you can observe about an object, such as hard, soft, sticky, or bouncy. "
                 + _listing(PROPERTIES, {p: f"{p} things" for p in PROPERTIES}))},
    {"key": "weather_climate", "topic": "earth science", "category": "Weather and climate",
     "name": "Tell weather from climate",
     "grades": (3, 10), "image": False, "max_choices": 2, "make": weather_climate,
     "rule": "Weather is one time and place; climate is the usual pattern over years.",
     "lecture": ("Weather is what the atmosphere is like at a certain place and time; it can change "
                 "from hour to hour. Climate is the pattern of weather in a place over many years. "
                 "Words like usually, every winter, and most years describe climate. A particular "
                 "day or time describes weather.")},
    {"key": "rocks_minerals", "topic": "earth science", "category": "Rocks and minerals",
     "name": "Identify rocks and minerals",
     "grades": (3, 8), "image": False, "make": rocks_minerals,
     "rule": "Minerals are pure substances; rocks are made of minerals.",
     "lecture": ("A mineral is a pure, solid substance with a fixed crystal structure. A rock is made of one or more "
                 "minerals. " + _listing(ROCKS_MINERALS))},
    {"key": "rock_types", "topic": "earth science", "category": "Rocks and minerals",
     "name": "Identify igneous, sedimentary, and metamorphic rocks",
     "grades": (5, 10), "image": False, "make": rock_types,
     "rule": "The way a rock forms tells its type.",
     "lecture": ("Rocks form in three ways. " + " ".join(f"{cap(k)} rock {v}." for k, v in ROCK_WHY.items()) + " "
                 + _listing({f"{k} rocks": v for k, v in ROCK_TYPES.items()}, {f"{k} rocks": f"{k} rocks" for k in ROCK_TYPES}))},
    {"key": "fast_slow", "topic": "earth science", "category": "Earth events",
     "name": "Identify fast and slow changes to Earth's surface",
     "grades": (2, 8), "image": False, "max_choices": 2, "make": fast_slow,
     "rule": "Fast changes take minutes or hours; slow changes take many years.",
     "lecture": ("Earth's surface changes all the time. Some changes are fast: they happen in minutes or hours, like "
                 + join_words(list(EARTH_CHANGES["fast"])) + ". Other changes are slow: they take many years, like "
                 + join_words(list(EARTH_CHANGES["slow"])) + ".")},
    {"key": "resources", "topic": "earth science", "category": "Natural resources",
     "name": "Identify renewable and nonrenewable resources",
     "grades": (4, 9), "image": False, "make": resources,
     "rule": "Renewable resources are replaced quickly by nature; nonrenewable ones are not.",
     "lecture": ("A natural resource is something from nature that people use. A renewable resource can be replaced "
                 "by nature within a human lifetime: " + join_words(list(RESOURCES["renewable"]))
                 + ". A nonrenewable resource takes a very long time to form: "
                 + join_words(list(RESOURCES["nonrenewable"])) + ".")},
    {"key": "moon", "topic": "earth science", "category": "Astronomy",
     "name": "Identify phases of the Moon",
     "grades": (1, 9), "image": True, "make": moon,
     "rule": "The lit part grows on the right and then shrinks from the right.",
     "lecture": ("The Moon seems to change shape because we see different amounts of its sunlit "
                 "half. At a new moon the whole disk is dark. Then the lit part grows on the right: "
                 "waxing crescent, first quarter (right half lit), waxing gibbous, and full moon "
                 "(all lit). Then it shrinks from the right: waning gibbous, third quarter (left "
                 "half lit), and waning crescent.")},
    {"key": "planets", "topic": "earth science", "category": "Astronomy",
     "name": "Compare the planets",
     "grades": (3, 9), "image": False, "make": planets,
     "rule": "Use the order of the planets.",
     "lecture": ("Our solar system has eight planets. In order from the Sun, they are " + join_words(list(PLANETS))
                 + ". From largest to smallest, they are " + join_words(list(BY_SIZE)) + ".")},
    {"key": "rainfall", "topic": "earth science", "category": "Weather and climate",
     "name": "Read a bar graph of rainfall",
     "grades": (3, 11), "image": True, "make": rainfall,
     "rule": "Taller bars mean more rain.",
     "lecture": ("A bar graph uses bars to compare amounts. In a rainfall graph, each bar is a "
                 "month, in order from left to right starting with January, and the bar's height "
                 "shows how many centimeters of rain fell. The tallest bar shows the most rainfall; "
                 "the shortest bar shows the least.")},
    {"key": "length_units", "topic": "units and measurement", "category": "Units and measurement",
     "name": "Choose the appropriate units of length",
     "grades": (2, 6), "image": False, "max_choices": 4, "make": _unit_skill(LENGTHS, LENGTH_UNITS, "How long is {}?"),
     "rule": "Use the unit that gives a sensible size for the object.",
     "lecture": ("Length can be measured in millimeters, centimeters, meters, and kilometers. An ant "
                 "is about 4 millimeters long. A pencil is about 15 centimeters long. A bed is about "
                 "2 meters long. A hiking trail can be 8 kilometers long. Pick the unit that makes "
                 "the number sensible.")},
    {"key": "mass_units", "topic": "units and measurement", "category": "Units and measurement",
     "name": "Choose the appropriate units of mass",
     "grades": (3, 7), "image": False, "max_choices": 3, "make": _unit_skill(MASSES, MASS_UNITS, "What is the mass of {}?"),
     "rule": "Use the unit that gives a sensible mass for the object.",
     "lecture": ("Mass can be measured in grams, kilograms, and metric tons. A pencil has a mass of "
                 "about 6 grams. A dog has a mass of about 30 kilograms. An elephant has a mass of "
                 "about 5 metric tons. Pick the unit that makes the number sensible.")},
    {"key": "volume_units", "topic": "units and measurement", "category": "Units and measurement",
     "name": "Choose the appropriate units of volume",
     "grades": (4, 8), "image": False, "max_choices": 2, "make": _unit_skill(VOLUMES, VOLUME_UNITS, "What is the volume of {}?"),
     "rule": "Use the unit that gives a sensible volume.",
     "lecture": ("Volume can be measured in milliliters and liters. A spoonful of medicine is about "
                 "5 milliliters. A bucket holds about 10 liters. There are 1,000 milliliters in one "
                 "liter.")},
    {"key": "thermometer", "topic": "units and measurement", "category": "Temperature",
     "name": "Read a thermometer",
     "grades": (2, 9), "image": True, "make": thermometer,
     "rule": "Read the scale at the top of the red liquid.",
     "lecture": ("A thermometer measures temperature. The red liquid rises as it gets warmer. To "
                 "read it, find the top of the red liquid and read the number on the scale beside "
                 "it. The long marks are labeled; the short marks between them are equal steps.")},
    {"key": "ruler", "topic": "units and measurement", "category": "Length",
     "name": "Measure length with a ruler",
     "grades": (1, 4), "image": True, "make": ruler,
     "rule": "Start at 0 and read where the object ends.",
     "lecture": ("A ruler measures length. Line up one end of the object with 0, then read the "
                 "number where the other end stops. Each numbered mark is one centimeter; a short "
                 "mark halfway between is half a centimeter.")},
    {"key": "clock", "topic": "units and measurement", "category": "Time",
     "name": "Read clocks",
     "grades": (1, 6), "image": True, "make": clock,
     "rule": "The short hand gives the hour and the long hand gives the minutes.",
     "lecture": ("An analog clock has a short hour hand and a long minute hand. The hour hand shows "
                 "the hour. When the minute hand points to 12 the time is o'clock (:00); to 3, "
                 "quarter past (:15); to 6, half past (:30); to 9, quarter to the next hour (:45).")},
    {"key": "colors", "topic": "science practices", "category": "Observations",
     "name": "Identify colors",
     "grades": (1, 6), "image": True, "make": colors,
     "rule": "Look closely at the color of the named shape.",
     "lecture": ("Scientists observe carefully. Colors help describe objects: red, orange, yellow, "
                 "green, blue, purple, pink, brown, and black. Some colors look alike, such as red "
                 "and orange, so look closely.")},
    {"key": "counting", "topic": "science practices", "category": "Observations",
     "name": "Count objects in a picture",
     "grades": (1, 8), "image": True, "make": counting,
     "rule": "Count only the objects the question names, each one once.",
     "lecture": ("Scientists often count what they observe. To count objects, point to each one once "
                 "and say the next number. Count only the kind of object the question asks about.")},
    {"key": "shapes", "topic": "science practices", "category": "Observations",
     "name": "Identify shapes",
     "grades": (1, 6), "image": True, "make": shapes,
     "rule": "Count the sides and corners.",
     "lecture": ("Shapes are named by their sides and corners. A triangle has 3 sides, a square has "
                 "4 equal sides, a rectangle has 2 long and 2 short sides, a diamond is a square "
                 "tipped on its corner, a pentagon has 5 sides, a hexagon 6, and an octagon 8. A "
                 "circle has no corners; a star has 5 points.")},
    {"key": "line_graph", "topic": "science practices", "category": "Graphs",
     "name": "Describe the trend in a line graph",
     "grades": (5, 12), "image": True, "max_choices": 4, "make": line_graph,
     "rule": "Read the line from left to right.",
     "lecture": ("A line graph shows how something changes over time, from left to right. If the "
                 "line rises, the amount went up. If it falls, the amount went down. If it is flat, "
                 "the amount stayed the same. A line can also rise and then fall.")},
)
