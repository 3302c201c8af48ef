"""Language-science skills of the SYNTHETIC dataset (grammar, vocabulary, punctuation, phonics,
reference skills, figurative language, word study, reading and writing).

None of these has an image; several carry the text to analyse in the question (after a line
break, as ScienceQA does) or a passage in the hint.
"""

from __future__ import annotations

from typing import Any

from vlprune.data.synthetic.core import Ctx, Item, join_words, others
from vlprune.data.synthetic.helpers import cap, fill

SUBJECT = "language science"


# ---------------------------------------------------------------------------- grammar and verbs

VERBS = (
    ("walk", "walked", "walks", ("to school", "home")), ("paint", "painted", "paints", ("a picture", "the door")),
    ("bake", "baked", "bakes", ("bread", "a pie")), ("plant", "planted", "plants", ("seeds", "a tree")),
    ("play", "played", "plays", ("soccer", "the piano")), ("clean", "cleaned", "cleans", ("the kitchen", "the car")),
    ("watch", "watched", "watches", ("the birds", "a movie")), ("visit", "visited", "visits", ("Grandma", "the zoo")),
    ("carry", "carried", "carries", ("the box", "a basket")), ("fix", "fixed", "fixes", ("the bike", "a lamp")),
    ("swim", "swam", "swims", ("in the lake", "across the pool")), ("write", "wrote", "writes", ("a letter", "a poem")),
    ("sing", "sang", "sings", ("a song", "in the choir")), ("eat", "ate", "eats", ("lunch", "an apple")),
    ("climb", "climbed", "climbs", ("the hill", "a ladder")), ("draw", "drew", "draws", ("a map", "a horse")),
    ("build", "built", "builds", ("a fort", "a birdhouse")), ("feed", "fed", "feeds", ("the cat", "the ducks")),
    ("wash", "washed", "washes", ("the dishes", "the dog")), ("find", "found", "finds", ("a shell", "the key")),
)
TENSES = ("past", "present", "future")


def tense(ctx: Ctx) -> Item:
    base, past, third, objects = ctx.pick(VERBS)
    obj = ctx.pick(objects)
    t = ctx.pick(TENSES)
    name = ctx.name()
    verb = {"past": past, "present": third, "future": f"will {base}"}[t]
    when = {"past": "already happened", "present": "happens now or regularly", "future": "is going to happen"}[t]
    wrong = ctx.sample([x for x in TENSES if x != t], ctx.n - 1)
    return Item(f"Which tense does the sentence use?\n{name} {verb} {obj}.", f"{t} tense",
                [f"{w} tense" for w in wrong],
                f"The sentence is in the {t} tense. The verb, {verb}, tells you about something that {when}.")


FRAGMENT_NOUNS = (("big", "brown dog", "in the yard", "barked at the mail carrier"),
                  ("tall", "oak tree", "by the river", "swayed in the wind"),
                  ("old", "red barn", "on the hill", "needs new paint"),
                  ("noisy", "yellow bus", "at the corner", "stopped for the children"),
                  ("tiny", "gray kitten", "under the porch", "meowed softly"))


def fragments(ctx: Ctx) -> Item:
    _, past, _, objects = ctx.pick(VERBS)
    obj = ctx.pick(objects)
    kind = ctx.pick(("complete", "no subject", "no verb"))
    name = ctx.name()
    adj, noun, place, predicate = ctx.pick(FRAGMENT_NOUNS)
    if kind == "complete":
        text = ctx.pick((f"{name} {past} {obj} after lunch.", f"The {adj} {noun} {place} {predicate}."))
        sol = "It has a subject and a verb and expresses a complete thought. It is a complete sentence."
    elif kind == "no subject":
        text = f"{cap(past)} {obj} after lunch."
        sol = "It is missing a subject: it does not tell who did the action. It is a sentence fragment."
    else:
        text = f"The {adj} {noun} {place}."
        sol = "It is missing a verb: it does not tell what happened. It is a sentence fragment."
    correct = "complete sentence" if kind == "complete" else "sentence fragment"
    other = "sentence fragment" if kind == "complete" else "complete sentence"
    return Item(f"Is this a complete sentence or a sentence fragment?\n{text}", correct, [other], sol)


SUBJECTS = {"singular": ("The dog", "My sister", "The teacher", "A bird", "The baby"),
            "plural": ("The dogs", "My sisters", "The teachers", "The birds", "The babies")}
AGREE_VERBS = (("play", "plays", "in the park"), ("sleep", "sleeps", "after lunch"), ("run", "runs", "to the gate"),
               ("sing", "sings", "every morning"), ("jump", "jumps", "over the puddle"), ("eat", "eats", "quickly"))


def agreement(ctx: Ctx) -> Item:
    number = ctx.pick(list(SUBJECTS))
    subject = ctx.pick(SUBJECTS[number])
    base, third, rest = ctx.pick(AGREE_VERBS)
    correct, wrong = (third, base) if number == "singular" else (base, third)
    return Item(f"Which word completes the sentence?\n{subject} ___ {rest}.", correct, [wrong],
                f"The subject, {subject.lower()}, is {number}. So, use the verb {correct}.")


POS = {
    "noun": ("table", "river", "teacher", "apple", "city", "garden"),
    "verb": ("run", "jump", "write", "build", "sing", "swim"),
    "adjective": ("tall", "soft", "bright", "noisy", "happy", "green"),
}
POS_DEF = {"noun": "A noun names a person, place, or thing.", "verb": "A verb tells an action.",
           "adjective": "An adjective describes a noun."}


def parts_of_speech(ctx: Ctx) -> Item:
    pos = ctx.pick(list(POS))
    x = ctx.pick(POS[pos])
    wrong = ctx.sample(others(POS, pos), ctx.n - 1)
    return Item(f"Which word is {'an' if pos == 'adjective' else 'a'} {pos}?", x, wrong,
                f"{POS_DEF[pos]} {cap(x)} is {'an' if pos == 'adjective' else 'a'} {pos}.")


# ---------------------------------------------------------------------------- vocabulary

SYNONYMS = (("big", "large"), ("small", "tiny"), ("happy", "glad"), ("fast", "quick"), ("sad", "unhappy"),
            ("begin", "start"), ("shout", "yell"), ("smart", "clever"), ("cold", "chilly"), ("angry", "mad"),
            ("scared", "afraid"), ("easy", "simple"))
ANTONYMS = (("hot", "cold"), ("open", "closed"), ("full", "empty"), ("wet", "dry"), ("early", "late"),
            ("push", "pull"), ("win", "lose"), ("above", "below"), ("buy", "sell"), ("float", "sink"),
            ("ancient", "modern"), ("arrive", "leave"))


def _pairs_skill(pairs: tuple[tuple[str, str], ...], relation: str):
    def make(ctx: Ctx) -> Item:
        i = ctx.integer(0, len(pairs) - 1)
        a, b = pairs[i] if ctx.coin() else pairs[i][::-1]
        rest = [w for j, p in enumerate(pairs) if j != i for w in p]
        wrong = ctx.sample(rest, ctx.n - 1)
        q = (f"Which word means about the same as {a}?" if relation == "synonym"
             else f"Which word means the opposite of {a}?")
        what = "about the same thing as" if relation == "synonym" else "the opposite of"
        return Item(q, b, wrong, f"{cap(b)} means {what} {a}. So, {a} and {b} are {relation}s.")

    return make


# ---------------------------------------------------------------------------- punctuation and capitals

#: End-punctuation sentences are composed: a subject, an action, and (for questions and
#: exclamations) an opening that signals the kind of sentence.
MARKS = {"statement": "a period", "question": "a question mark", "exclamation": "an exclamation point"}
END_SUBJECTS = ("{name}", "My sister", "Our teacher", "My friend", "Grandpa", "The class")
END_ACTIONS = (("walked to the park", "walk to the park"), ("baked cookies", "bake cookies"),
               ("found a shiny rock", "find a shiny rock"), ("painted the fence", "paint the fence"),
               ("read a long book", "read a long book"), ("fixed the old clock", "fix the old clock"),
               ("planted a tree", "plant a tree"), ("won the race", "win the race"))
END_OPENINGS = {"question": ("Did", "When did", "Where did", "Why did"),
                "exclamation": ("Wow,", "Hooray,", "Oh my,", "Yay,")}


def _mid_sentence(subject: str) -> str:
    """'The dog' -> 'the dog' when it no longer starts the sentence; names keep their capital."""
    return subject[0].lower() + subject[1:] if subject.split()[0] in ("My", "Our", "The") else subject


def end_punctuation(ctx: Ctx) -> Item:
    kind = ctx.pick(list(MARKS))
    subject = ctx.pick(END_SUBJECTS).format(name=ctx.name())
    past, base = ctx.pick(END_ACTIONS)
    if kind == "statement":
        text = f"{subject} {past}"
    elif kind == "question":
        text = f"{ctx.pick(END_OPENINGS['question'])} {_mid_sentence(subject)} {base}"
    else:
        text = f"{ctx.pick(END_OPENINGS['exclamation'])} {_mid_sentence(subject)} {past}"
    wrong = ctx.sample([MARKS[k] for k in MARKS if k != kind], ctx.n - 1)
    what = {"statement": "tells something", "question": "asks something",
            "exclamation": "shows strong feeling"}[kind]
    return Item(f"Which punctuation mark should end this sentence?\n{text}", MARKS[kind], wrong,
                f"The sentence {what}, so it is {'an' if kind == 'exclamation' else 'a'} {kind}. "
                f"It should end with {MARKS[kind]}.")


KIND_SENTENCES = {
    "statement": ("{name} plays the drums.", "The library opens at noon.", "Our cat sleeps on the bed."),
    "question": ("Did {name} finish the puzzle?", "Where are my shoes?", "How tall is that tree?"),
    "exclamation": ("What a huge wave that was!", "I love this song!", "That was so much fun!"),
    "command": ("Please close the door.", "Put your shoes by the door.", "Wash your hands before dinner."),
}
KIND_WHY = {"statement": "tells something and ends with a period",
            "question": "asks something and ends with a question mark",
            "exclamation": "shows strong feeling and ends with an exclamation point",
            "command": "tells someone to do something and starts with an action word"}


def sentence_kinds(ctx: Ctx) -> Item:
    kind = ctx.pick(list(KIND_SENTENCES))
    text = ctx.pick(KIND_SENTENCES[kind]).format(name=ctx.name())
    wrong = ctx.sample([k for k in KIND_SENTENCES if k != kind], ctx.n - 1)
    return Item(f"What kind of sentence is this?\n{text}", kind, wrong, f"The sentence {KIND_WHY[kind]}. It is a {kind}.")


CITIES = ("Denver", "Chicago", "Boston", "Dallas", "Seattle")
DAYS = ("Monday", "Tuesday", "Friday", "Saturday")
PLACES = ("park", "zoo", "museum", "library")


def capitalization(ctx: Ctx) -> Item:
    city, day, place = ctx.pick(CITIES), ctx.pick(DAYS), ctx.pick(PLACES)

    def sentence(c: str, d: str, p: str) -> str:
        return f"We went to the {p} in {c} on {d}."

    correct = sentence(city, day, place)
    variants = [sentence(city.lower(), day, place), sentence(city, day.lower(), place),
                sentence(city, day, place.capitalize()), sentence(city.lower(), day.lower(), place)]
    wrong = ctx.sample(variants, ctx.n - 1)
    return Item("Which sentence is capitalized correctly?", correct, wrong,
                f"{city} and {day} are proper nouns, so they start with capital letters. {cap(place)} is a "
                f"common noun, so it is written {place}.")


# ---------------------------------------------------------------------------- phonics

#: Rhyming families by their shared ending.
RHYMES = {"at": ("cat", "hat", "bat", "mat"), "ig": ("pig", "dig", "wig", "big"), "op": ("mop", "top", "hop", "pop"),
          "un": ("sun", "run", "fun", "bun"), "ake": ("cake", "lake", "bake", "rake"),
          "ell": ("bell", "shell", "well", "tell"), "ing": ("ring", "king", "sing", "wing"),
          "ock": ("sock", "rock", "clock", "lock")}


def rhymes(ctx: Ctx) -> Item:
    ending = ctx.pick(list(RHYMES))
    family = RHYMES[ending]
    other_words = others(RHYMES, ending)
    if ctx.n >= 3 and ctx.coin():
        same = ctx.sample(family, ctx.n - 1)
        odd = ctx.pick(other_words)
        return Item("Which word does not rhyme?", odd, same,
                    f"The words {join_words(same)} rhyme: they end with -{ending}. {cap(odd)} does not rhyme.")
    a, b = ctx.sample(family, 2)
    wrong = ctx.sample(other_words, ctx.n - 1)
    return Item(f"Which word rhymes with {a}?", b, wrong, f"{cap(a)} and {b} rhyme: both end with -{ending}.")


VOWEL_WORDS = {
    ("a", "short"): ("cat", "map", "hat", "bag"), ("a", "long"): ("cake", "rain", "game", "tape"),
    ("e", "short"): ("bed", "hen", "net", "pet"), ("e", "long"): ("tree", "feet", "bee", "seal"),
    ("i", "short"): ("pig", "fish", "sit", "lip"), ("i", "long"): ("kite", "bike", "pie", "nine"),
    ("o", "short"): ("dog", "hot", "box", "mop"), ("o", "long"): ("boat", "rope", "bone", "goat"),
    ("u", "short"): ("bus", "sun", "cup", "duck"), ("u", "long"): ("cube", "mule", "flute", "tube"),
}


def vowels(ctx: Ctx) -> Item:
    v = ctx.pick("aeiou")
    length = ctx.pick(("short", "long"))
    x = ctx.pick(VOWEL_WORDS[(v, length)])
    opposite = "long" if length == "short" else "short"
    wrong = fill(ctx, VOWEL_WORDS[(v, opposite)],
                 [w for (vv, ll), ws in VOWEL_WORDS.items() if ll == opposite for w in ws], ctx.n - 1)
    return Item(f"Which word has a {length} {v} sound?", x, wrong,
                f"{cap(x)} has a {length} {v} sound. The other words do not.")


SYLLABLES = {
    "cat": "cat", "dog": "dog", "tree": "tree", "fish": "fish", "book": "book",
    "tiger": "ti-ger", "apple": "ap-ple", "pencil": "pen-cil", "rabbit": "rab-bit", "window": "win-dow",
    "banana": "ba-na-na", "elephant": "el-e-phant", "dinosaur": "di-no-saur", "computer": "com-pu-ter",
    "butterfly": "but-ter-fly", "watermelon": "wa-ter-mel-on", "caterpillar": "cat-er-pil-lar",
    "helicopter": "hel-i-cop-ter", "alligator": "al-li-ga-tor", "television": "tel-e-vi-sion",
}


def syllables(ctx: Ctx) -> Item:
    word = ctx.pick(list(SYLLABLES))
    parts = SYLLABLES[word]
    count = parts.count("-") + 1
    wrong = ctx.sample([str(k) for k in range(1, 5) if k != count], ctx.n - 1)
    return Item(f"How many syllables does the word {word} have?", str(count), wrong,
                f"Say the word in parts: {parts}. It has {count} syllable{'s' if count > 1 else ''}.")


# ---------------------------------------------------------------------------- reference skills

WORD_GROUPS = {
    "b": ("bat", "bell", "bird", "boat", "bus", "brick"),
    "c": ("cake", "city", "clock", "cow", "cup", "crab"),
    "d": ("desk", "dig", "dog", "drum", "duck"),
    "m": ("map", "melon", "milk", "mop", "mud"),
    "p": ("pan", "pen", "pig", "pond", "pup"),
    "s": ("sand", "seal", "ship", "sock", "sun", "swim"),
    "t": ("table", "tent", "tiger", "top", "tree", "tub"),
}
ALL_WORDS = tuple(sorted(w for ws in WORD_GROUPS.values() for w in ws))


def abc_order(ctx: Ctx) -> Item:
    k = max(2, ctx.n)
    if ctx.level > 0.35:
        # Same first letter: the second letter decides, which is the harder case.
        letter = ctx.pick([g for g, ws in WORD_GROUPS.items() if len({w[1] for w in ws}) >= k])
        by_second: dict[str, str] = {}
        for w in ctx.sample(WORD_GROUPS[letter], len(WORD_GROUPS[letter])):
            by_second.setdefault(w[1], w)
        words = list(by_second.values())[:k]
        pos = "second"
    else:
        words = [ctx.pick(WORD_GROUPS[g]) for g in ctx.sample(list(WORD_GROUPS), k)]
        pos = "first"
    first = min(words)
    return Item("Which word would come first in alphabetical order?", first, [w for w in words if w != first],
                f"Compare the {pos} letters of the words. {cap(first)} comes first because "
                f"{first[1 if pos == 'second' else 0]} comes first in the alphabet.")


def guide_words(ctx: Ctx) -> Item:
    letter = ctx.pick(list(WORD_GROUPS))
    pool = sorted(WORD_GROUPS[letter]) if ctx.level > 0.4 else list(ALL_WORDS)
    inside = ctx.coin()
    while True:
        i, j = sorted(ctx.sample(range(len(pool)), 2))
        between = pool[i + 1: j]
        outside = pool[:i] + pool[j + 1:]
        if (between if inside else outside):
            break
    word = ctx.pick(between if inside else outside)
    a, b = pool[i], pool[j]
    if inside:
        sol = f"{cap(word)} comes after {a} and before {b} in alphabetical order, so it is on the page."
    else:
        where = f"before {a}" if word < a else f"after {b}"
        sol = f"{cap(word)} comes {where} in alphabetical order, so it is not on the page."
    return Item(f"Would you find the word {word} on a dictionary page with these guide words?\n{a} - {b}",
                "yes" if inside else "no", ["no" if inside else "yes"], sol)


# ---------------------------------------------------------------------------- figurative language

FIGURES = {
    "simile": ("{name}'s smile was as bright as the sun.", "The baby slept like a log.",
               "{name} ran as fast as a cheetah.", "The lake was as smooth as glass."),
    "metaphor": ("{name}'s smile was pure sunshine.", "The classroom was a zoo.", "{name} is a night owl.",
                 "The lake was a mirror."),
    "personification": ("The wind whispered through the trees.", "The old car groaned up the hill.",
                        "The sun smiled down on {name}.", "The leaves danced in the breeze."),
}
FIGURE_WHY = {"simile": "compares two things using like or as",
              "metaphor": "compares two things without using like or as",
              "personification": "gives human actions to something that is not human"}


def figures(ctx: Ctx) -> Item:
    kinds = list(FIGURES) if ctx.grade >= 7 else ["simile", "metaphor"]
    kind = ctx.pick(kinds)
    text = ctx.pick(FIGURES[kind]).format(name=ctx.name())
    wrong = ctx.sample([k for k in kinds if k != kind], ctx.n - 1)
    return Item(f"Which figure of speech is used in this text?\n{text}", kind, wrong,
                f"The text {FIGURE_WHY[kind]}. So, it uses {'a ' if kind != 'personification' else ''}{kind}.")


IDIOMS = {
    "break the ice": ("start a friendly conversation", "{name} told a joke to break the ice at the party."),
    "a piece of cake": ("something very easy", "For {name}, the spelling test was a piece of cake."),
    "under the weather": ("feeling sick", "{name} stayed home from school, feeling under the weather."),
    "hit the books": ("study hard", "The test is tomorrow, so {name} has to hit the books tonight."),
    "spill the beans": ("tell a secret", "{name} promised not to spill the beans about the surprise party."),
    "cost an arm and a leg": ("cost a lot of money", "The new bike cost an arm and a leg, but {name} loves it."),
    "on cloud nine": ("very happy", "{name} was on cloud nine after winning the race."),
    "once in a blue moon": ("very rarely", "{name} eats fast food only once in a blue moon."),
}


def idioms(ctx: Ctx) -> Item:
    idiom = ctx.pick(list(IDIOMS))
    meaning, text = IDIOMS[idiom]
    wrong = ctx.sample([m for i, (m, _) in IDIOMS.items() if i != idiom], ctx.n - 1)
    return Item(f"What does the idiom in this text mean?\n{text.format(name=ctx.name())}", meaning, wrong,
                f"The text uses the idiom {idiom}, which means {meaning}.")


# ---------------------------------------------------------------------------- word study

PREFIXES = {"un": "not {}", "re": "{} again", "pre": "{} before", "mis": "{} wrongly", "over": "{} too much"}
PREFIX_WORDS = (("un", "happy"), ("un", "kind"), ("un", "safe"), ("re", "tell"), ("re", "read"), ("re", "build"),
                ("pre", "heat"), ("pre", "pay"), ("mis", "spell"), ("mis", "read"), ("over", "cook"), ("over", "eat"))


def prefixes(ctx: Ctx) -> Item:
    prefix, root = ctx.pick(PREFIX_WORDS)
    correct = PREFIXES[prefix].format(root)
    wrong = ctx.sample([m.format(root) for p, m in PREFIXES.items() if p != prefix], ctx.n - 1)
    return Item(f"What does the word {prefix}{root} mean?", correct, wrong,
                f"The prefix {prefix}- means {PREFIXES[prefix].format('').strip()}. So, {prefix}{root} means {correct}.")


COMPOUNDS = {
    "compound": ("sunflower", "rainbow", "football", "cupcake", "toothbrush", "bedroom", "snowman", "starfish"),
    "simple": ("yellow", "garden", "window", "pencil", "rabbit", "table", "kitten", "button"),
}
COMPOUND_PARTS = {"sunflower": ("sun", "flower"), "rainbow": ("rain", "bow"), "football": ("foot", "ball"),
                  "cupcake": ("cup", "cake"), "toothbrush": ("tooth", "brush"), "bedroom": ("bed", "room"),
                  "snowman": ("snow", "man"), "starfish": ("star", "fish")}


def compounds(ctx: Ctx) -> Item:
    x = ctx.pick(COMPOUNDS["compound"])
    wrong = ctx.sample(COMPOUNDS["simple"], ctx.n - 1)
    a, b = COMPOUND_PARTS[x]
    return Item("Which word is a compound word?", x, wrong,
                f"{cap(x)} is made of two smaller words, {a} and {b}. So, it is a compound word.")


# ---------------------------------------------------------------------------- reading and writing

PETS = ("cat", "dog", "parrot", "rabbit", "turtle", "hamster")
PET_COLORS = ("black", "white", "brown", "gray", "orange", "spotted")
ACTIVITIES = ("chase balls", "sleep in the sun", "eat carrots", "climb on chairs", "splash in puddles",
              "sing in the morning")


def reading(ctx: Ctx) -> Item:
    two = ctx.grade >= 4
    pets = ctx.sample(PETS, 2)
    cols = ctx.sample(PET_COLORS, 2)
    acts = ctx.sample(ACTIVITIES, 2)
    n1 = ctx.name()
    n2 = ctx.name(exclude=(n1,))
    passage = f"{n1} has a {cols[0]} {pets[0]}. The {pets[0]} likes to {acts[0]}."
    if two:
        passage += f" {n2} has a {cols[1]} {pets[1]} that likes to {acts[1]}."
    ask_color = ctx.coin()
    if ask_color:
        q = f"What color is {n1}'s {pets[0]}?"
        correct = cols[0]
        wrong = fill(ctx, [cols[1]] if two else [], [c for c in PET_COLORS if c != cols[0]], ctx.n - 1)
        sol = f"The passage says that {n1} has a {cols[0]} {pets[0]}."
    else:
        q = f"What does {n1}'s {pets[0]} like to do?"
        correct = acts[0]
        wrong = fill(ctx, [acts[1]] if two else [], [a for a in ACTIVITIES if a != acts[0]], ctx.n - 1)
        sol = f"The passage says that the {pets[0]} likes to {acts[0]}."
    return Item(q, correct, wrong, sol, hint=passage)


FACT_OPINION = {
    "fact": ("A week has seven days.", "Water freezes at 0°C.", "The Pacific Ocean is the largest ocean.",
             "Spiders have eight legs.", "The Sun is a star.", "Frogs are amphibians.",
             "A triangle has three sides.", "Jupiter is the largest planet."),
    "opinion": ("Summer is the best season.", "Broccoli tastes awful.", "Cats are more fun than dogs.",
                "Math is the most exciting subject.", "Red is the prettiest color.", "Pizza is better than pasta.",
                "Rainy days are boring.", "Soccer is the greatest sport."),
}


def fact_opinion(ctx: Ctx) -> Item:
    cls = ctx.pick(list(FACT_OPINION))
    x = ctx.pick(FACT_OPINION[cls])
    wrong = ctx.sample(others(FACT_OPINION, cls), ctx.n - 1)
    why = "It can be proved true." if cls == "fact" else "It tells what someone believes or feels; people can disagree."
    return Item(f"Which sentence states {'a fact' if cls == 'fact' else 'an opinion'}?", x, wrong,
                f"The sentence \"{x}\" states {'a fact' if cls == 'fact' else 'an opinion'}. {why}")


# ---------------------------------------------------------------------------- the skills

#: This subject's part of the catalogue, one row per skill (columns: core.SKILL_COLUMNS;
#: ``max_choices`` defaults to 5), read by core.build_skills. Frequencies live in catalog.RANKING.
SKILL_TABLE: tuple[dict[str, Any], ...] = (
    {"key": "tense", "topic": "verbs", "category": "Verb tense",
     "name": "Identify the tense of a sentence",
     "grades": (2, 10), "image": False, "max_choices": 3, "make": tense,
     "rule": "Look at the verb: -ed or an irregular past form, will, or the present form.",
     "lecture": ("Present tense verbs tell about something that happens now or regularly, such as "
                 "walks. Past tense verbs tell about something that already happened; most end in "
                 "-ed, such as walked, but some are irregular, such as swam, wrote, sang, and ate. "
                 "Future tense verbs tell about something that is going to happen and use will, such "
                 "as will walk.")},
    {"key": "fragments", "topic": "grammar", "category": "Sentences and fragments",
     "name": "Tell complete sentences from fragments",
     "grades": (2, 7), "image": False, "max_choices": 2, "make": fragments,
     "rule": "A complete sentence needs both a subject and a verb.",
     "lecture": ("A complete sentence has a subject, which tells who or what, and a verb, which "
                 "tells what happens. It expresses a complete thought. A sentence fragment is "
                 "missing a subject, a verb, or both, so it does not express a complete thought.")},
    {"key": "agreement", "topic": "grammar", "category": "Subject-verb agreement",
     "name": "Use verbs that agree with their subjects",
     "grades": (2, 6), "image": False, "max_choices": 2, "make": agreement,
     "rule": "A singular subject takes a verb ending in -s; a plural subject does not.",
     "lecture": ("The verb in a sentence must agree with its subject. When the subject is singular, "
                 "such as the dog, add -s to the verb: the dog plays. When the subject is plural, "
                 "such as the dogs, do not add -s: the dogs play.")},
    {"key": "parts_of_speech", "topic": "grammar", "category": "Parts of speech",
     "name": "Identify nouns, verbs, and adjectives",
     "grades": (2, 8), "image": False, "make": parts_of_speech,
     "rule": "Ask whether the word names, acts, or describes.",
     "lecture": (" ".join(POS_DEF.values()) + " Nouns: " + join_words(list(POS["noun"])) + ". Verbs: "
                 + join_words(list(POS["verb"])) + ". Adjectives: " + join_words(list(POS["adjective"])) + ".")},
    {"key": "synonyms", "topic": "vocabulary", "category": "Synonyms and antonyms",
     "name": "Identify synonyms",
     "grades": (2, 8), "image": False, "make": _pairs_skill(SYNONYMS, "synonym"),
     "rule": "Synonyms mean about the same thing.",
     "lecture": ("Synonyms are words that mean about the same thing. Pairs of synonyms include "
                 + join_words([f"{a} and {b}" for a, b in SYNONYMS]) + ".")},
    {"key": "antonyms", "topic": "vocabulary", "category": "Synonyms and antonyms",
     "name": "Identify antonyms",
     "grades": (2, 8), "image": False, "make": _pairs_skill(ANTONYMS, "antonym"),
     "rule": "Antonyms have opposite meanings.",
     "lecture": ("Antonyms are words with opposite meanings. Pairs of antonyms include "
                 + join_words([f"{a} and {b}" for a, b in ANTONYMS]) + ".")},
    {"key": "end_punctuation", "topic": "punctuation", "category": "End punctuation",
     "name": "Choose the punctuation mark that ends a sentence",
     "grades": (1, 6), "image": False, "max_choices": 3, "make": end_punctuation,
     "rule": ("Statements end with a period, questions with a question mark, and exclamations with "
              "an exclamation point."),
     "lecture": ("Every sentence ends with a punctuation mark. A statement tells something and ends "
                 "with a period. A question asks something and ends with a question mark; questions "
                 "often start with words like where, what, why, do, or can. An exclamation shows "
                 "strong feeling and ends with an exclamation point; it often starts with words like "
                 "wow, oh no, or hooray.")},
    {"key": "sentence_kinds", "topic": "punctuation", "category": "Sentence types",
     "name": "Identify statements, questions, exclamations, and commands",
     "grades": (4, 9), "image": False, "max_choices": 4, "make": sentence_kinds,
     "rule": "Look at the end mark and at how the sentence begins.",
     "lecture": ("There are four kinds of sentences. A statement tells something and ends with a "
                 "period. A question asks something and ends with a question mark. An exclamation "
                 "shows strong feeling and ends with an exclamation point. A command tells someone "
                 "to do something; it usually starts with an action word such as put or wash, or "
                 "with please.")},
    {"key": "capitalization", "topic": "capitalization", "category": "Proper nouns",
     "name": "Capitalize proper nouns",
     "grades": (1, 5), "image": False, "make": capitalization,
     "rule": "Capitalize proper nouns and only proper nouns.",
     "lecture": ("A proper noun names a particular person, place, or thing, such as a city or a day of the week: "
                 + join_words(list(CITIES) + list(DAYS)) + ". Proper nouns begin with a capital letter. A common noun, "
                 "such as park or zoo, begins with a lowercase letter unless it starts the sentence.")},
    {"key": "rhymes", "topic": "phonological awareness", "category": "Rhyming",
     "name": "Identify rhyming words",
     "grades": (1, 3), "image": False, "make": rhymes,
     "rule": "Rhyming words share their ending sound.",
     "lecture": ("Words rhyme when they end with the same sound. For example, "
                 + "; ".join(", ".join(f) for f in RHYMES.values()) + " are rhyming families.")},
    {"key": "vowels", "topic": "phonological awareness", "category": "Vowel sounds",
     "name": "Identify short and long vowel sounds",
     "grades": (1, 3), "image": False, "make": vowels,
     "rule": "A long vowel says its name; a short vowel does not.",
     "lecture": ("Vowels can make short or long sounds. A long vowel says its own name. Short: "
                 + ", ".join(w for (v, ln), ws in VOWEL_WORDS.items() if ln == "short" for w in ws[:2])
                 + ". Long: " + ", ".join(w for (v, ln), ws in VOWEL_WORDS.items() if ln == "long" for w in ws[:2])
                 + ".")},
    {"key": "syllables", "topic": "phonological awareness", "category": "Syllables",
     "name": "Count syllables",
     "grades": (2, 5), "image": False, "max_choices": 4, "make": syllables,
     "rule": "Count the vowel sounds you hear.",
     "lecture": ("A syllable is a part of a word with one vowel sound. Clap as you say a word to "
                 "count its syllables: cat has one, ti-ger has two, ba-na-na has three, and "
                 "wa-ter-mel-on has four.")},
    {"key": "abc_order", "topic": "reference skills", "category": "Alphabetical order",
     "name": "Put words in alphabetical order",
     "grades": (2, 6), "image": False, "make": abc_order,
     "rule": "Compare first letters, then second letters.",
     "lecture": ("Alphabetical order is the order of letters in the alphabet. To put words in "
                 "alphabetical order, compare their first letters. If the first letters are the "
                 "same, compare the second letters, and so on.")},
    {"key": "guide_words", "topic": "reference skills", "category": "Dictionary skills",
     "name": "Use guide words",
     "grades": (3, 8), "image": False, "max_choices": 2, "make": guide_words,
     "rule": "A word is on the page if it falls between the guide words in alphabetical order.",
     "lecture": ("Guide words at the top of a dictionary page show the first and last words on that "
                 "page. A word is on the page if it comes after the first guide word and before the "
                 "last guide word in alphabetical order.")},
    {"key": "figures", "topic": "figurative language", "category": "Similes, metaphors, and personification",
     "name": "Identify figures of speech",
     "grades": (4, 10), "image": False, "max_choices": 3, "make": figures,
     "rule": "Check for like or as, and for human actions given to things.",
     "lecture": ("Figures of speech use words in creative ways. A simile compares two things using "
                 "like or as: the lake was as smooth as glass. A metaphor compares two things "
                 "without like or as: the lake was a mirror. Personification gives human actions to "
                 "something that is not human: the wind whispered.")},
    {"key": "idioms", "topic": "figurative language", "category": "Idioms",
     "name": "Interpret idioms",
     "grades": (4, 12), "image": False, "make": idioms,
     "rule": "An idiom's meaning is not the meaning of its words.",
     "lecture": ("An idiom is a phrase whose meaning differs from the meanings of its words. "
                 + " ".join(f"{cap(i)} means {m}." for i, (m, _) in IDIOMS.items()))},
    {"key": "prefixes", "topic": "word study", "category": "Prefixes",
     "name": "Determine the meanings of words with prefixes",
     "grades": (3, 8), "image": False, "make": prefixes,
     "rule": "The prefix changes the meaning of the base word.",
     "lecture": ("A prefix is a word part added to the beginning of a word that changes its meaning. "
                 + " ".join(f"{p}- means {m.format('').strip()}." for p, m in PREFIXES.items())
                 + " For example, unhappy means not happy and reread means read again.")},
    {"key": "compounds", "topic": "word study", "category": "Compound words",
     "name": "Identify compound words",
     "grades": (1, 4), "image": False, "make": compounds,
     "rule": "A compound word is two smaller words put together.",
     "lecture": ("A compound word is made of two smaller words joined together, such as sun + flower = sunflower. "
                 "Compound words: " + join_words(list(COMPOUNDS["compound"])) + ". Words such as "
                 + join_words(list(COMPOUNDS["simple"])) + " are not compound words.")},
    {"key": "reading", "topic": "reading comprehension", "category": "Details",
     "name": "Recall details from a passage",
     "grades": (1, 6), "image": False, "make": reading,
     "rule": "Find the sentence about the person the question names.",
     "lecture": ("When you read a passage, look for details: who is in it, what they have, and what "
                 "they do. To answer a question, find the sentence that tells about the person or "
                 "animal the question names.")},
    {"key": "fact_opinion", "topic": "writing strategies", "category": "Facts and opinions",
     "name": "Distinguish facts from opinions",
     "grades": (3, 8), "image": False, "make": fact_opinion,
     "rule": "Facts can be proved; opinions can be disagreed with.",
     "lecture": ("A fact is something that can be proved true by observing, measuring, or reading a "
                 "reliable source, such as a week has seven days. An opinion tells what someone "
                 "believes, thinks, or feels; people can disagree. Words like best, awful, boring, "
                 "and prettiest often signal opinions.")},
)
