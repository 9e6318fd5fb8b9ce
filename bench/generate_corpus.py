#!/usr/bin/env python3
"""Generates the benchmark corpus: interview-like English text with planted personal data and
a ground truth of everything planted.

    python3 bench/generate_corpus.py --out bench/work/corpus [--megabytes 50] [--seed 1]

Writes, under --out:
  corpus/interviews/*.txt     transcripts ("Interviewer:" / participant label turns)
  corpus/field-notes/*.md     observation diaries (headings, paragraphs, bullets)
  roster.csv                  name,aliases,type (as examples/roster.csv)
  truth.json                  per file: every planted identifier (value, type, count; persons
                              with "rostered") and every planted ordinary-word context

Everything is synthetic and uses documentation ranges: e-mail and web addresses under
example.org/.com/.net, UK drama phone ranges (07700 900xxx, 020 7946 0xxx, 0161 496 0xxx), US
555-01xx, IPs from RFC 5737 / RFC 3849. IBANs (ISO 7064 mod-97), card numbers (Luhn), UK NINOs
and US SSNs are valid in form but random. Names come from data/names/ (the bundled lists the
anonymizer also uses); names that are ordinary words are never planted as un-rostered names.

Standard library only; the same --seed and --megabytes always give the same bytes.
"""

import argparse
import csv
import io
import json
import os
import random
import string
import sys
import unicodedata

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---- ordinary text -------------------------------------------------------------------------
# Filler sentences about care work and migration. Slots: {n} small count, {n2} larger count,
# {hours}, {money}, {time}, {weekday}, {month} (never May: "in May" is a planted context).
FILLERS = [
    "The shifts are long and the handover is always rushed.",
    "We were short-staffed most of the week, so everyone covered extra hours.",
    "Some days I had {n} residents to get up and washed before breakfast.",
    "There is no proper break, you eat standing in the sluice room.",
    "The agency charged a fee that took months to pay back.",
    "My contract said {hours} hours a week, but the rota never matched it.",
    "The pay was {money} an hour when I started, just above the minimum.",
    "I send money home every month without fail.",
    "The visa rules changed for care workers and dependants, and it felt like a door closing.",
    "You feel that if you lose the job you lose everything, the visa, the room, the right to stay.",
    "The residents are the reason I stay, honestly.",
    "We give them dignity at the end of their life, and that matters to me.",
    "Night shifts are the hardest, because you are alone with {n2} people on the floor.",
    "The new manager brought in a better system for the rota.",
    "Training was mostly online modules that nobody had time to finish.",
    "The union helped with a problem about my contract.",
    "My accent is a problem on the phone, people pretend they do not understand.",
    "During the pandemic we had no proper protective equipment at first.",
    "I was exhausted and did not have the word for it then.",
    "The handover happens standing up in the nurses' station.",
    "Ten minutes for {n2} residents is not enough to say anything useful.",
    "The kitchen assistant also serves the drinks in the morning.",
    "The first call bell rang at {time}, then five more in a row.",
    "By mid-morning three residents were still waiting to be got up.",
    "The families visit on {weekday} afternoons, mostly.",
    "We cook together on our day off and share what we have.",
    "The church community helped me more than any official service.",
    "I started as a care assistant and became a senior after two years.",
    "The qualification from home was not recognised straight away.",
    "There was a lot of paperwork for the sponsorship certificate.",
    "The room I rented was small and cold, with two other carers.",
    "Some relatives are very kind and bring cakes for the staff.",
    "Others are rude, and the manager does not always back us up.",
    "We were told the overtime would be paid the following month.",
    "The minibus for the outing was cancelled again.",
    "One of the seniors showed me how to use the hoist safely.",
    "The medication round takes almost two hours on a bad day.",
    "It is skilled work, and we are not cheap hands.",
    "The staff room has a kettle and four chairs for the whole team.",
    "In {month} the heating broke and nobody came to fix it for a week.",
    "There were {n} new starters last month and only two are still here.",
    "Everybody is tired, but we look after each other.",
    "I would like to study nursing one day, when the money allows it.",
    "The language course was in the evening, after a full shift.",
    "We talk on video every week, it is the hardest part of the week.",
    "The inspection report said the home requires improvement.",
    "The agency workers do not know the residents, and the residents notice.",
    "Sometimes the bank staff cancel an hour before the shift.",
    "Breakfast starts at {time} and lunch is already at noon.",
    "The bus to work takes almost an hour each way.",
    "They changed the uniform policy without asking anyone.",
    "Nobody explained how the pension scheme works.",
    "I keep a notebook with everything that happens on shift.",
    "The district nurse comes twice a week for the dressings.",
    "We had {n} falls on the ground floor in one week.",
    "The call system is old and half of the buzzers do not work.",
    "I do not regret coming, but it was not what I imagined.",
    "Respect is the word, we want respect for the work.",
    "The team is from {n} different countries and we manage.",
    "When someone dies we do not get time to grieve.",
    "The laundry is always behind, so we borrow towels from upstairs.",
    "The managers meet on {weekday} mornings to plan the week.",
    "The residents' lounge is the warmest room in the building.",
    "Some of the carers have two jobs to make ends meet.",
    "After the shift I sleep for a few hours and then call home.",
]

INTERVIEWER_QUESTIONS = [
    "Could you tell me how you came to work in care?",
    "What was it like when you first arrived?",
    "How would you describe the pay and the hours?",
    "Who supports you when things are difficult?",
    "How did the visa process work for you?",
    "Were there moments where you felt treated differently?",
    "What keeps you going?",
    "Can you describe a typical shift?",
    "How do you stay in touch with your family?",
    "What would you change if you could?",
    "How did the pandemic affect your work?",
    "Is there anything you want people to know about care work?",
    "How is the relationship with the managers?",
    "Do you feel your skills are recognised here?",
    "What happens when someone is off sick?",
]

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "February", "March", "April", "June", "July", "August", "September",
          "October", "November", "December"]
ALL_MONTHS = MONTHS[:4] + ["May"] + MONTHS[4:]

# Ordinary words that are also names, planted where they must survive. The context string is
# what is checked in the output, verbatim.
KEPT_TEMPLATES = [
    ("May", "in May", "We moved in May, just before the rules changed."),
    ("May", "in May", "The new rota started in May and nothing got better."),
    ("May", "May I", "May I ask you something about the agency?"),
    ("will", "I will", "I will be honest with you, it is hard."),
    ("will", "we will see", "My daughter asks when I am coming home, and I say we will see."),
    ("Will", "Will I", "Will I be able to bring them here one day?"),
    ("rose", "a rose", "He shows me a rose in the garden from his window every morning."),
    ("Grace", "Grace period", "The Grace period for the visa was only sixty days."),
    ("Hope", "Hope is", "Hope is what keeps us going, that and each other."),
    ("hope", "I hope", "I hope it helps your research."),
    ("bill", "the bill", "I could not pay the bill for the heating that winter."),
    ("frank", "frank talk", "We had a frank talk with the manager about the rota."),
    ("Frank", "Frank discussion", "Frank discussion is rare in the team meetings."),
    ("mark", "a mark", "The hoist left a mark on her arm and I reported it."),
    ("joy", "The joy", "The joy of the work is in small moments."),
    ("faith", "My faith", "My faith keeps me calm on the bad days."),
    ("dawn", "at dawn", "We start at dawn in the winter months."),
    ("June", "in June", "The inspection came in June without warning."),
    ("April", "in April", "Eleven residents died in April that year."),
    ("August", "in August", "My contract ends in August and I do not know what comes next."),
    ("patience", "patience", "You need patience with the families, more than with the residents."),
    ("Patience", "Patience is", "Patience is the first thing they should teach in training."),
    ("Summer", "Summer is", "Summer is easier because the residents can sit in the garden."),
    ("sunny", "a sunny day", "On a sunny day we take them out to the bench by the gate."),
    ("rich", "we are rich", "People at home think we are rich because we live abroad."),
    ("pat", "a pat on the back", "Nobody gives you a pat on the back for a good shift."),
    ("carol", "a carol", "At Christmas we sang a carol for the residents in the lounge."),
    ("Victor", "Victor Meldrew", "He complains like Victor Meldrew from the old programme."),
    ("grant", "a grant", "The home got a grant for new beds last year."),
    ("Chance", "Chance would be", "Chance would be a fine thing, with these wages."),
    ("Ray", "a ray of", "She is a ray of sunshine on the dementia floor."),
    ("Holly", "holly", "We put holly on the tables in December."),
    ("Ivy", "ivy", "The ivy covers the whole back wall of the building."),
    ("Sky", "the sky", "On nights you watch the sky go light before the handover."),
    ("Crystal", "crystal clear", "The manager made it crystal clear that overtime is not optional."),
    ("Honor", "honor", "It is an honor to care for them, I mean that."),
    ("Sterling", "sterling", "The fee was paid in sterling, which made it worse with the exchange."),
]

# Numbers, times, money and dates that must survive (slots filled per use).
KEPT_NUMERIC = [
    ("year", "in {year}", "I came here in {year}, with one suitcase."),
    ("year", "since {year}", "I have worked in this home since {year}."),
    ("time", "at {time}", "The early shift starts at {time} and nobody is late."),
    ("time24", "at {time24}", "The meeting was at {time24} in the staff room."),
    ("money", "{money} an hour", "The agency paid {money} an hour for nights."),
    ("money_big", "{money_big} a month", "I send about {money_big} a month to my mother."),
    ("count", "{n2} residents", "There are {n2} residents on the ground floor."),
    ("count", "{n} days in a row", "I worked {n} days in a row in the winter."),
    ("hours", "{hours} hours", "My contract says {hours} hours but I do more."),
    ("percent", "{pct}%", "They took {pct}% of the first salary as a fee."),
    ("date", "on {day} {month} {year}", "The home was inspected on {day} {month} {year}."),
    ("ward", "room {room}", "The lady in room {room} rings the bell every ten minutes."),
]

# ---- planted identifiers -------------------------------------------------------------------
# Sentences that plant one identifier; {v} is the value.
PLANT_TEMPLATES = {
    "email": [
        "You can write to me at {v} if you need anything more.",
        "The recruiter's address was {v}, I still have the e-mails.",
        "I sent my documents to {v} and waited for weeks.",
        "Her work e-mail is {v}, she answers quickly.",
    ],
    "phone": [
        "When I call the surgery and give my number, {v}, they ask me to repeat it.",
        "The agency office number is {v}, but nobody picks up.",
        "She gave me her mobile, {v}, in case of emergencies.",
        "You can reach me on {v} after six.",
    ],
    "url": [
        "I saw the job advert on {v} and applied from home.",
        "The union has a page, {v}, with the new rules.",
        "They put the rota online at {v} now.",
    ],
    "ip": [
        "The rota system logs you in from {v}, the manager showed me.",
        "IT said the tablet had the address {v} when it broke.",
        "The login page said my address was {v} and blocked me.",
    ],
    "iban": [
        "My salary goes into my account, {v}, and the same day I send money home.",
        "The agency asked me to pay into {v} before the flight.",
        "For the refund they needed my IBAN, {v}, on a form.",
    ],
    "payment_card": [
        "I paid the first part with my card, the number was {v}, and I remember it.",
        "The fee went on my card {v} and it took a year to clear.",
        "They kept a copy of my card, {v}, which worried me.",
    ],
    "national_id": [
        "My National Insurance number is {v}, it took three months to get.",
        "On the form I wrote my NI number, {v}, twice by mistake.",
        "In the US my social security number was {v}, it means nothing here.",
    ],
    "postcode": [
        "I rented a room near the station, {v}, with two other carers.",
        "The new flat is at {v}, closer to the home.",
        "The letter went to my old address, {v}, and I never got it.",
    ],
    "date_of_birth": [
        "I was born on {v}, so I am not young any more.",
        "She was born on {v} in a small village.",
        "His date of birth is {v}, it is on the care plan.",
        "Date of birth: {v}, it says on my visa.",
    ],
    "handle": [
        "I have an Instagram, {v}, where I post the cakes I bake.",
        "The carers' group on Twitter is {v}, you can follow it.",
        "My TikTok is {v}, just cooking videos.",
    ],
}

# Un-rostered names in natural contexts. {g} given name, {s} surname; the planted values are
# the name parts as written (a full name is one value).
UNROSTERED_TEMPLATES = [
    ("gs", "My colleague {g} {s} showed me how the hoist works."),
    ("gs", "A nurse called {g} {s} trained the new starters."),
    ("gs", "I shared the room with {g} {s} for the first year."),
    ("title_s", "Dr. {s} comes on Thursdays for the reviews."),
    ("title_s", "Mrs {s} on the first floor asks for me every morning."),
    ("title_s", "Mr {s} was a gardener all his life."),
    ("g", "I told {g} about the job and she applied the same week."),
    ("g", "My sister {g} looks after my daughter back home."),
    ("g", "Her son {g} visits every Sunday with flowers."),
    ("g", "{g} covers my shift when I am sick."),
    ("gs", "The new deputy, {g} {s}, is stricter about breaks."),
    ("title_gs", "Dr. {g} {s} signed the certificate."),
]

ROSTERED_TEMPLATES = [
    ("full", "{full} met me at reception and showed me round."),
    ("full", "I spent the afternoon with {full} on the ground floor."),
    ("first", "{first} told me the rota changes every week."),
    ("first", "I asked {first} about the agency fee."),
    ("poss", "{first}'s shift ended at eight but she stayed until nine."),
    ("title", "{title} {last} signed the sponsorship papers."),
    ("title", "I went to see {title} {last} about the overtime."),
    ("alias", "Everyone calls her {alias}, even the residents."),
    ("alias", "{alias} was on nights all of last month."),
]

PLACE_TEMPLATES = [
    "I started at {v} in the autumn.",
    "The staff at {v} are mostly from abroad.",
    "We moved the residents from {v} during the refurbishment.",
]
ORG_TEMPLATES = [
    "{v} arranged the flight and the first room.",
    "I complained to {v} but nothing happened.",
    "The contract was with {v}, not with the home.",
]

TYPE_WEIGHTS = [
    ("rostered", 24), ("unrostered", 20), ("place", 6), ("org", 5),
    ("email", 5), ("phone", 5), ("url", 4), ("ip", 3), ("iban", 4), ("payment_card", 4),
    ("national_id", 5), ("postcode", 5), ("date_of_birth", 5), ("handle", 4),
]

PLACE_PARTS_A = ["Oak", "Ash", "Elm", "Birch", "Hazel", "Beech", "Alder", "Rowan", "Larch",
                 "Thorn", "Brook", "Mill", "Stone", "Marsh", "Wold", "Fern", "Heather", "Bramble"]
PLACE_PARTS_B = ["field", "wood", "ley", "gate", "croft", "mead", "bury", "dene", "holme",
                 "worth", "stead", "combe"]
PLACE_KINDS = ["House", "Lodge", "Court", "Manor", "Grange", "Gardens"]
TOWN_SUFFIX = ["bridge", "ford", "ton", "by", "minster", "chester"]
ORG_KINDS = ["Staffing", "Home Care Ltd", "Care Group", "Recruitment", "NHS Foundation Trust",
             "Healthcare Partners"]

TITLES = ["Mrs", "Mr", "Ms", "Dr."]


# ---- identifier makers ---------------------------------------------------------------------
def ascii_fold(text):
    return "".join(c for c in unicodedata.normalize("NFKD", text) if ord(c) < 128)


def luhn_complete(prefix_digits, length, rng):
    body = prefix_digits + "".join(rng.choice(string.digits)
                                   for _ in range(length - len(prefix_digits) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:  # positions that get doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


def make_card(rng):
    kind = rng.random()
    if kind < 0.5:
        n = luhn_complete("4", 16, rng)
    elif kind < 0.85:
        n = luhn_complete(str(rng.randint(51, 55)), 16, rng)
    else:
        n = luhn_complete(rng.choice(["34", "37"]), 15, rng)
    if len(n) == 15:
        return f"{n[:4]} {n[4:10]} {n[10:]}"
    sep = rng.choice([" ", " ", "-", ""])
    return sep.join(n[i:i + 4] for i in range(0, 16, 4))


IBAN_SPECS = {"GB": ("alpha4", 14), "DE": (None, 18), "ES": (None, 20), "PL": (None, 24),
              "FR": (None, 23), "NL": ("alpha4", 10), "IE": ("alpha4", 14)}


def make_iban(rng):
    country = rng.choice(sorted(IBAN_SPECS))
    alpha, digits = IBAN_SPECS[country]
    bban = ""
    if alpha:
        bban = "".join(rng.choice(string.ascii_uppercase) for _ in range(4))
    bban += "".join(rng.choice(string.digits) for _ in range(digits))
    rearranged = bban + country + "00"
    numeric = "".join(str(int(c, 36)) for c in rearranged)
    check = 98 - int(numeric) % 97
    iban = f"{country}{check:02d}{bban}"
    if rng.random() < 0.6:
        return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    return iban


NINO_BAD_FIRST = set("DFIQUV")
NINO_BAD_SECOND = set("DFIQUVO")
NINO_BAD_PREFIX = {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}


def make_nino(rng):
    while True:
        a = rng.choice(string.ascii_uppercase)
        b = rng.choice(string.ascii_uppercase)
        if a in NINO_BAD_FIRST or b in NINO_BAD_SECOND or a + b in NINO_BAD_PREFIX:
            continue
        break
    d = "".join(rng.choice(string.digits) for _ in range(6))
    s = rng.choice("ABCD")
    if rng.random() < 0.5:
        return f"{a}{b}{d}{s}"
    return f"{a}{b} {d[:2]} {d[2:4]} {d[4:]} {s}"


def make_ssn(rng):
    while True:
        area = rng.randint(1, 899)
        if area != 666:
            break
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


UK_OUTWARD = ["M14", "M13", "M1", "SW1A", "LS6", "B15", "EH8", "CF10", "L8", "BS3", "NE1",
              "G12", "OX4", "CB2", "NG7", "S10", "E1", "N16", "SE15", "W12", "BN1", "PL4"]
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def make_postcode(rng):
    return (f"{rng.choice(UK_OUTWARD)} {rng.randint(0, 9)}"
            f"{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}")


def make_dob(rng):
    year = rng.randint(1935, 2002)
    month = rng.randint(1, 12)
    day = rng.randint(1, 28)
    style = rng.random()
    if style < 0.55:
        return f"{day} {ALL_MONTHS[month - 1]} {year}"
    if style < 0.8:
        return f"{year}-{month:02d}-{day:02d}"
    return f"{day:02d}/{month:02d}/{year}"


def make_phone(rng):
    n3 = rng.randint(0, 999)
    n2 = rng.randint(0, 99)
    style = rng.randrange(7)
    if style == 0:
        return f"07700 900{n3:03d}"
    if style == 1:
        return f"07700-900{n3:03d}"
    if style == 2:
        return f"+44 7700 900{n3:03d}"
    if style == 3:
        return f"020 7946 0{n3:03d}"
    if style == 4:
        return f"0161 496 0{n3:03d}"
    if style == 5:
        return f"({rng.choice(['415', '212', '617', '312'])}) 555-01{n2:02d}"
    return f"+1 {rng.choice(['415', '212', '617', '312'])}-555-01{n2:02d}"


def make_ip(rng):
    style = rng.randrange(4)
    if style == 0:
        return f"192.0.2.{rng.randint(1, 254)}"
    if style == 1:
        return f"198.51.100.{rng.randint(1, 254)}"
    if style == 2:
        return f"203.0.113.{rng.randint(1, 254)}"
    return f"2001:db8:{rng.randint(1, 0xffff):x}::{rng.randint(1, 0xffff):x}"


URL_PATHS = ["care-jobs", "rota", "news/visa-rules", "join", "contact", "jobs/senior-carer",
             "help/pay", "members/login", "campaigns/fair-pay"]


def make_url(rng, ident):
    domain = rng.choice(["example.org", "example.com", "example.net"])
    path = rng.choice(URL_PATHS)
    style = rng.randrange(3)
    if style == 0:
        return f"https://www.{domain}/{path}/{ident}"
    if style == 1:
        return f"http://{ident}.{domain}/{path}"
    return f"www.{domain}/{path}?id={ident}"


class NameSource:
    """Draws given names and surnames from data/names, minus ordinary words."""

    def __init__(self, rng, banned_lower):
        def load(name):
            with open(os.path.join(REPO, "data", "names", name), encoding="utf-8") as f:
                return [line.strip() for line in f if line.strip() and not line.startswith("#")]

        ambiguous = {w.lower() for w in load("ambiguous.txt")}
        given = load("given-names.txt")
        surnames = load("surnames.txt")
        def ok(name):
            low = name.lower()
            return (len(name) >= 3 and low not in ambiguous and low not in banned_lower
                    and "'" not in name)

        # Given names that are also surnames (and the reverse) stay: real names do that.
        self.given = [g for g in given if ok(g)]
        self.surnames = [s for s in surnames if ok(s)]
        self.rng = rng
        self.used = set()  # roster names and aliases: never drawn as un-rostered names

    def take(self, pool):
        while True:
            name = self.rng.choice(pool)
            if name not in self.used:
                self.used.add(name)
                return name

    def free(self, pool):
        while True:
            name = self.rng.choice(pool)
            if name not in self.used:
                return name

    # Roster names: each drawn once.
    def roster_given(self):
        return self.take(self.given)

    def roster_surname(self):
        return self.take(self.surnames)

    # Un-rostered names: any name that is not on the roster (repeats across files are fine).
    def given_name(self):
        return self.free(self.given)

    def surname(self):
        return self.free(self.surnames)


# ---- corpus --------------------------------------------------------------------------------
class FileTruth:
    def __init__(self):
        self.identifiers = {}  # value -> {"type", "count", ["rostered"]}
        self.kept = {}         # context -> {"word", "count"}

    def plant(self, value, kind, rostered=None):
        entry = self.identifiers.get(value)
        if entry is None:
            entry = {"value": value, "type": kind, "count": 0}
            if kind == "person":
                entry["rostered"] = rostered
            self.identifiers[value] = entry
        entry["count"] += 1

    def keep(self, word, context):
        entry = self.kept.setdefault(context, {"word": word, "context": context, "count": 0})
        entry["count"] += 1


class Generator:
    def __init__(self, seed, megabytes, files):
        self.rng = random.Random(seed)
        self.seed = seed
        self.target = int(megabytes * 1024 * 1024)
        self.file_count = files
        self.serial = 0
        vocab = set()
        for text in (FILLERS + INTERVIEWER_QUESTIONS + WEEKDAYS + ALL_MONTHS
                     + [t for _, _, t in KEPT_TEMPLATES] + [t for _, _, t in KEPT_NUMERIC]
                     + [t for ts in PLANT_TEMPLATES.values() for t in ts]
                     + [t for _, t in UNROSTERED_TEMPLATES] + [t for _, t in ROSTERED_TEMPLATES]
                     + PLACE_TEMPLATES + ORG_TEMPLATES + ORG_KINDS + PLACE_KINDS):
            for word in text.replace("'", " ").replace(".", " ").replace(",", " ").split():
                vocab.add(word.strip("?!:;()").lower())
        vocab.update(["interviewer", "participant", "field", "notes", "interview", "week",
                      "recorded", "minutes", "observation", "diary"])
        self.names = NameSource(self.rng, vocab)
        self.kind_table = []
        for kind, weight in TYPE_WEIGHTS:
            self.kind_table += [kind] * weight
        self.build_roster()

    # The roster: participants (one per interview), staff, places and organisations.
    def build_roster(self):
        rng = self.rng
        self.people = []
        used_aliases = set()
        n_people = max(40, self.file_count + self.file_count // 2)
        for _ in range(n_people):
            first = self.names.roster_given()
            last = self.names.roster_surname()
            alias = ""
            if rng.random() < 0.4:
                # A nickname: a short form that is not an ordinary word or another name.
                base = ascii_fold(first)
                for cut in (3, 4, 5):
                    cand = base[:cut] + rng.choice(["i", "o", "a", "y", "ie"])
                    cand = cand[0].upper() + cand[1:].lower()
                    if (cand.lower() not in self.names.used and cand not in used_aliases
                            and cand.lower() not in {g.lower() for g in (first, last)}
                            and len(cand) >= 4):
                        alias = cand
                        used_aliases.add(cand)
                        self.names.used.add(cand)
                        break
            self.people.append({"first": first, "last": last, "alias": alias,
                                "title": rng.choice(TITLES)})
        self.places = []
        seen = set()
        while len(self.places) < 60:
            if rng.random() < 0.7:
                name = (rng.choice(PLACE_PARTS_A) + rng.choice(PLACE_PARTS_B) + " "
                        + rng.choice(PLACE_KINDS))
            else:
                name = rng.choice(PLACE_PARTS_A) + rng.choice(TOWN_SUFFIX)
            if name not in seen:
                seen.add(name)
                self.places.append(name)
        self.orgs = []
        while len(self.orgs) < 30:
            stem = rng.choice(["Bright", "Kind", "True", "Silver", "Harbour", "Meadow", "Pioneer",
                               "Unity", "Beacon", "Summit", "Haven", "Lighthouse"])
            stem += rng.choice(["Care", "Path", "Hands", "Light", "Way", "Star"])
            name = stem + " " + rng.choice(ORG_KINDS)
            if name not in seen:
                seen.add(name)
                self.orgs.append(name)

    def roster_csv(self):
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["name", "aliases", "type"])
        for p in self.people:
            writer.writerow([f"{p['first']} {p['last']}", p["alias"], "person"])
        for place in self.places:
            writer.writerow([place, "", "place"])
        for org in self.orgs:
            writer.writerow([org, "", "org"])
        return out.getvalue()

    # -- slots for ordinary numbers
    def slot_values(self):
        rng = self.rng
        hour = rng.randint(6, 9)
        return {
            "n": str(rng.randint(2, 12)), "n2": str(rng.randint(14, 60)),
            "hours": str(rng.choice([20, 24, 30, 36, 37.5, 40, 48])),
            "money": f"£{rng.randint(9, 14)}.{rng.randint(0, 99):02d}",
            "money_big": f"£{rng.randint(2, 9)},{rng.randint(0, 9)}00",
            "time": f"{hour}.{rng.choice(['00', '15', '30', '45'])}",
            "time24": f"{rng.randint(13, 21)}:{rng.choice(['00', '15', '30', '45'])}",
            "weekday": rng.choice(WEEKDAYS), "month": rng.choice(MONTHS),
            "year": str(rng.randint(2005, 2024)), "day": str(rng.randint(1, 28)),
            "pct": str(rng.randint(5, 40)), "room": str(rng.randint(1, 48)),
        }

    def filler(self):
        return self.rng.choice(FILLERS).format(**self.slot_values())

    def kept_sentence(self, truth):
        rng = self.rng
        if rng.random() < 0.6:
            word, context, text = rng.choice(KEPT_TEMPLATES)
            truth.keep(word, context)
            return text
        word, context, text = rng.choice(KEPT_NUMERIC)
        slots = self.slot_values()
        truth.keep(word, context.format(**slots))
        return text.format(**slots)

    def plant_sentence(self, truth, local_people):
        rng = self.rng
        kind = rng.choice(self.kind_table)
        self.serial += 1
        if kind == "rostered":
            p = rng.choice(local_people)
            style, text = rng.choice(ROSTERED_TEMPLATES)
            if style == "alias" and not p["alias"]:
                style, text = "full", ROSTERED_TEMPLATES[0][1]
            full = f"{p['first']} {p['last']}"
            if style == "full":
                truth.plant(full, "person", True)
            elif style in ("first", "poss"):
                truth.plant(p["first"], "person", True)
            elif style == "title":
                truth.plant(p["last"], "person", True)
            else:
                truth.plant(p["alias"], "person", True)
            return text.format(full=full, first=p["first"], last=p["last"],
                               title=p["title"], alias=p["alias"])
        if kind == "unrostered":
            style, text = rng.choice(UNROSTERED_TEMPLATES)
            g = self.names.given_name() if "g" in style else ""
            s = self.names.surname() if "s" in style else ""
            value = " ".join(x for x in (g, s) if x)
            truth.plant(value, "person", False)
            return text.format(g=g, s=s)
        if kind == "place":
            value = rng.choice(self.places)
            truth.plant(value, "place")
            return rng.choice(PLACE_TEMPLATES).format(v=value)
        if kind == "org":
            value = rng.choice(self.orgs)
            truth.plant(value, "org")
            return rng.choice(ORG_TEMPLATES).format(v=value)
        if kind == "email":
            p = rng.choice(local_people)
            local = ascii_fold(f"{p['first']}.{p['last']}").lower().replace(" ", "")
            domain = rng.choice(["example.org", "example.com", "example.net", "care.example.org"])
            value = f"{local}{self.serial % 97}@{domain}" if rng.random() < 0.5 else f"{local}@{domain}"
        elif kind == "phone":
            value = make_phone(rng)
        elif kind == "url":
            value = make_url(rng, f"r{self.serial}")
        elif kind == "ip":
            value = make_ip(rng)
        elif kind == "iban":
            value = make_iban(rng)
        elif kind == "payment_card":
            value = make_card(rng)
        elif kind == "national_id":
            value = make_nino(rng) if rng.random() < 0.6 else make_ssn(rng)
        elif kind == "postcode":
            value = make_postcode(rng)
        elif kind == "date_of_birth":
            value = make_dob(rng)
        else:
            p = rng.choice(local_people)
            value = "@" + ascii_fold(p["first"]).lower()[:8] + rng.choice(
                ["_cares", "_carer", "_uk", "_nurse", "_kitchen", str(self.serial % 1000)])
        templates = PLANT_TEMPLATES[kind]
        if kind == "national_id":
            text = templates[2] if "-" in value else rng.choice(templates[:2])
        else:
            text = rng.choice(templates)
        truth.plant(value, kind)
        return text.format(v=value)

    def paragraph(self, truth, local_people, sentences):
        rng = self.rng
        parts = []
        for _ in range(sentences):
            r = rng.random()
            if r < 0.17:
                parts.append(self.plant_sentence(truth, local_people))
            elif r < 0.27:
                parts.append(self.kept_sentence(truth))
            else:
                parts.append(self.filler())
        return " ".join(parts)

    def interview(self, index, size, truth):
        rng = self.rng
        participant = self.people[index % len(self.people)]
        others = rng.sample(self.people, 4)
        local = [participant] + others
        style = rng.randrange(3)
        if style == 0:
            label = participant["first"].upper()
            truth_label = label
        elif style == 1:
            label = f"{participant['first']} {participant['last']}"
            truth_label = label
        else:
            label = f"P{index + 1:03d}"
            truth_label = None
        day = rng.randint(1, 28)
        month = rng.choice(MONTHS)
        year = rng.randint(2021, 2024)
        out = [f"Interview P{index + 1:03d} - care worker, {rng.choice(self.places)}\n",
               f"Recorded {day} {month} {year}, {rng.randint(30, 90)} minutes. "
               "Transcribed verbatim, minor hesitations removed.\n\n"]
        truth.plant(out[0].split(", ", 1)[1].strip(), "place")
        length = sum(len(s.encode("utf-8")) for s in out)
        while length < size:
            turn = f"Interviewer: {rng.choice(INTERVIEWER_QUESTIONS)}\n\n"
            body = self.paragraph(truth, local, rng.randint(3, 9))
            answer = f"{label}: {body}\n\n"
            if truth_label:
                truth.plant(truth_label, "person", True)
            out += [turn, answer]
            length += len(turn.encode("utf-8")) + len(answer.encode("utf-8"))
        return "".join(out)

    def field_notes(self, index, size, truth):
        rng = self.rng
        local = rng.sample(self.people, 6)
        place = rng.choice(self.places)
        truth.plant(place, "place")
        out = [f"# Field notes: {place}, visit {index + 1}\n\n",
               "Observation diary, written up each evening from jottings made on site.\n\n"]
        length = sum(len(s.encode("utf-8")) for s in out)
        day = 0
        while length < size:
            day += 1
            heading = f"## {WEEKDAYS[day % 7]} {1 + day % 28} {rng.choice(MONTHS)}\n\n"
            chunk = [heading]
            for _ in range(rng.randint(2, 4)):
                chunk.append(self.paragraph(truth, local, rng.randint(4, 8)) + "\n\n")
            if rng.random() < 0.5:
                for _ in range(rng.randint(2, 4)):
                    chunk.append(f"- {self.slot_values()['time']}: "
                                 f"{self.paragraph(truth, local, 1)}\n")
                chunk.append("\n")
            text = "".join(chunk)
            out.append(text)
            length += len(text.encode("utf-8"))
        return "".join(out)

    def write(self, out_dir):
        corpus = os.path.join(out_dir, "corpus")
        os.makedirs(os.path.join(corpus, "interviews"), exist_ok=True)
        os.makedirs(os.path.join(corpus, "field-notes"), exist_ok=True)
        with open(os.path.join(out_dir, "roster.csv"), "w", encoding="utf-8", newline="") as f:
            f.write(self.roster_csv())
        per_file = self.target // self.file_count
        n_interviews = (self.file_count * 7) // 10
        files = []
        total = 0
        for i in range(self.file_count):
            truth = FileTruth()
            size = int(per_file * self.rng.uniform(0.8, 1.2))
            if i == self.file_count - 1:
                size = max(1024, self.target - total)
            if i < n_interviews:
                rel = f"interviews/i{i + 1:04d}.txt"
                text = self.interview(i, size, truth)
            else:
                rel = f"field-notes/fn{i + 1 - n_interviews:04d}.md"
                text = self.field_notes(i, size, truth)
            data = text.encode("utf-8")
            with open(os.path.join(corpus, rel), "wb") as f:
                f.write(data)
            total += len(data)
            files.append({"path": rel, "bytes": len(data),
                          "identifiers": sorted(truth.identifiers.values(),
                                                key=lambda e: (e["type"], e["value"])),
                          "kept": sorted(truth.kept.values(), key=lambda e: e["context"])})
        summary = {}
        for f in files:
            for e in f["identifiers"]:
                key = e["type"]
                if key == "person":
                    key = "person_rostered" if e["rostered"] else "person_unrostered"
                summary[key] = summary.get(key, 0) + e["count"]
        doc = {
            "generator": "bench/generate_corpus.py",
            "seed": self.seed,
            "corpus_bytes": total,
            "file_count": len(files),
            "planted_occurrences": dict(sorted(summary.items())),
            "kept_occurrences": sum(k["count"] for f in files for k in f["kept"]),
            "files": files,
        }
        with open(os.path.join(out_dir, "truth.json"), "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, indent=1)
        return doc


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="output folder (created)")
    parser.add_argument("--megabytes", type=float, default=50.0)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.megabytes <= 0 or args.files <= 0:
        parser.error("--megabytes and --files must be positive")
    gen = Generator(args.seed, args.megabytes, args.files)
    doc = gen.write(args.out)
    planted = sum(doc["planted_occurrences"].values())
    print(f"corpus: {doc['file_count']} files, {doc['corpus_bytes'] / 1e6:.1f} MB, "
          f"{planted} planted identifiers (one per {doc['corpus_bytes'] / max(planted, 1):.0f} "
          f"bytes), {doc['kept_occurrences']} ordinary-word contexts -> {args.out}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
