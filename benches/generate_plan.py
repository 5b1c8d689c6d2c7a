#!/usr/bin/env python3
"""Generate a large, synthetic but realistic contingency plan for benchmarks.

Usage:

    benches/generate_plan.py --systems N --seed S OUT_DIR

writes the plan folder OUT_DIR (``plan.toml`` and ``systems/*.toml``) in exactly the format of
``plans/example-kommune/`` (see ``docs/plan-format.md``). The plan id is the folder name, so
name OUT_DIR like ``bench-1000`` (a lowercase slug), e.g.

    benches/generate_plan.py --systems 1000 --seed 1 /tmp/plans/bench-1000
    target/release/beredskab validate /tmp/plans/bench-1000

The shape follows a real municipality's plan:

* systems sit in three layers: infrastructure (about 10 %, ids ``infra-…``), platforms (about
  20 %, ``plat-…``) and applications (the rest, ``app-…``); ids carry a zero-padded number, so
  they sort in generation order;
* every platform and application depends on 3–8 systems in lower layers only (an
  infrastructure system on at most two earlier infrastructure systems), so there are no
  cycles; dependencies mostly have an RTO no longer than the dependent's, so only a few
  ``rto-inversion`` warnings appear;
* N/10 + 5 people hold the example plan's roles; every system has an owner and a deputy
  among them, criticality 1–4, RTO <= MTPD, 2–5 recovery steps, a workaround, a
  verification procedure, an impact table and a ``last_reviewed`` date within the six months
  before the reference date (2026-11-28 unless ``--reference-date`` says otherwise); about
  half have a supplier.

The output is deterministic for a given ``--systems``/``--seed`` pair (``random.Random(seed)``)
and has no errors under ``beredskab validate`` (warnings are expected). Only the standard
library is used.
"""

import argparse
import datetime
import json
import os
import random
import re
import sys

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

# Durations, shortest first, in canonical form. Indices into this ladder order them.
LADDER = ["1h", "2h", "4h", "8h", "12h", "1d", "2d", "3d", "5d", "1w", "2w", "4w"]
RPOS = ["15m", "1h", "4h", "1d"]
STEP_DURATIONS = ["10m", "15m", "20m", "30m", "45m", "1h", "2h"]
# Ladder index range [low, high] of the RTO by criticality.
RTO_RANGE = {1: (0, 3), 2: (2, 6), 3: (5, 8), 4: (6, 10)}

ROLES = [
    ("it-chef", "IT-chef",
     "Godkender planen, træffer beslutning om aktivering og nedlukning af IT-beredskabet, "
     "disponerer økonomi og orienterer direktionen."),
    ("beredskabskoordinator", "Beredskabskoordinator",
     "Vedligeholder planen, planlægger øvelser, fører logbog under en hændelse og indkalder "
     "til statusmøder og evaluering."),
    ("beredskabsleder", "Beredskabsleder",
     "Leder den tekniske indsats under en hændelse, prioriterer reetableringen efter planens "
     "rækkefølge og rapporterer status til krisestaben."),
    ("krisestab", "Krisestab",
     "Træffer beslutninger, der rækker ud over IT (lukning af borgerservice, prioritering "
     "mellem forvaltninger, ekstern kommunikation) og sikrer koordinering med kommunens "
     "øvrige beredskab."),
    ("systemejer", "Systemejer",
     "Ejer et systems forretningsmæssige side: aktiverer nødproceduren, prioriterer i "
     "forvaltningen, verificerer systemet fagligt efter reetablering og styrer "
     "efterregistrering."),
    ("driftstekniker", "Driftstekniker",
     "Reetablerer servere, lager, virtualisering, identitet, databaser og applikationer efter "
     "systemernes reetableringstrin."),
    ("netvaerkstekniker", "Netværkstekniker",
     "Reetablerer kernenetværk, firewall, internetforbindelser, DNS/DHCP og fjernadgang."),
    ("kommunikation", "Kommunikation",
     "Udarbejder og udsender intern og ekstern kommunikation (intranet, hjemmeside, sociale "
     "medier, presse) efter aftale med krisestaben."),
    ("leverandoerkoordinator", "Leverandørkoordinator",
     "Kontakter leverandører, eskalerer efter kontrakten, følger op på løsningstider og "
     "dokumenterer leverandørernes indsats."),
]

# The first people of the plan: the organisation around the plan itself.
LEADERS = [
    ("IT-chef", ["it-chef", "krisestab"]),
    ("Informationssikkerhedskoordinator", ["beredskabskoordinator", "krisestab"]),
    ("Driftschef, IT-drift", ["beredskabsleder", "krisestab", "systemejer"]),
    ("Kommunaldirektør", ["krisestab"]),
    ("Kommunikationschef", ["kommunikation", "krisestab", "systemejer"]),
    ("IT-kontraktansvarlig", ["leverandoerkoordinator"]),
]
TECH_TITLES = [
    ("Driftstekniker (servere og virtualisering)", ["driftstekniker", "systemejer"]),
    ("Driftstekniker (identitet og Microsoft 365)", ["driftstekniker", "systemejer"]),
    ("Netværkstekniker", ["netvaerkstekniker", "systemejer"]),
    ("Databaseadministrator", ["driftstekniker", "systemejer"]),
    ("Netværks- og sikkerhedstekniker", ["netvaerkstekniker", "driftstekniker"]),
    ("Applikationsansvarlig", ["driftstekniker", "systemejer"]),
]
BUSINESS_TITLES = [
    "Økonomichef", "Løn- og personalechef", "Sundheds- og omsorgschef", "Jobcenterchef",
    "Skolechef", "Borgerservicechef", "Digitaliseringskonsulent", "Teknik- og miljøchef",
    "Ejendomschef", "Dagtilbudschef", "Kulturchef", "Afdelingsleder, Ydelser",
    "Fagkoordinator", "Teamleder, Myndighed", "Centerchef", "Vej- og parkchef",
]
FIRST_NAMES = [
    "Anne", "Mette", "Lars", "Jesper", "Sofie", "Mikkel", "Kasper", "Rasmus", "Michael",
    "Peter", "Camilla", "Hanne", "Birgitte", "Karen", "Thomas", "Line", "Julie", "Nanna", "Ole",
    "Henrik", "Søren", "Jørgen", "Bjørn", "Åse", "Øjvind", "Mads", "Freja", "Ida", "Emma",
    "Frederik", "Christian", "Louise", "Maria", "Jens", "Niels", "Helle", "Tove", "Malene",
    "Morten", "Pia", "Signe", "Troels", "Gitte", "Bo", "Dorte", "Lene", "Anders", "Kirsten",
]
LAST_NAMES = [
    "Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen",
    "Sørensen", "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen",
    "Thomsen", "Christiansen", "Poulsen", "Johansen", "Møller", "Mortensen", "Kjær", "Holm",
    "Friis", "Lund", "Bech", "Skov", "Dahl", "Brandt", "Frederiksen", "Østergaard",
    "Laursen", "Bang", "Nørgaard", "Højgaard", "Bruun", "Vestergaard", "Krogh", "Dam",
]

# (id stem, name, description) per layer.
INFRA_KINDS = [
    ("strom", "Strømforsyning og UPS", "Nødstrøm, UPS-anlæg og generator for datacenteret."),
    ("koeling", "Køling i datacenter", "Kølemaskiner og overvågning af temperatur i serverrummet."),
    ("netvaerk", "Kernenetværk", "Kerneswitche og distributionslag mellem kommunens lokationer."),
    ("firewall", "Firewall", "Firewall-klynge mellem kommunens net, internettet og DMZ."),
    ("internet", "Internetforbindelse", "Redundante internetforbindelser fra to udbydere."),
    ("dns", "DNS og DHCP", "Intern navneopslag og adressetildeling på appliances."),
    ("san", "Lagersystem (SAN)", "Delt lagersystem for virtuelle servere og databaser."),
    ("vmware", "Virtualiseringsklynge", "Værtsklynge, der kører kommunens virtuelle servere."),
    ("backup", "Backup", "Sikkerhedskopiering til uforanderligt lager og sky-kopi."),
    ("ad", "Active Directory-domæne", "Domænecontrollere for login, grupper og politikker."),
    ("wifi", "Trådløst net", "Trådløst net for medarbejdere og gæster på alle lokationer."),
    ("vpn", "Fjernadgang (VPN)", "Fjernadgang for medarbejdere og leverandører med MFA."),
]
PLATFORM_KINDS = [
    ("sql", "SQL-platform", "Databaseklynge for fagsystemer og integrationer."),
    ("citrix", "Citrix-farm", "Udstiller fagsystemer, der kræver en Windows-klient."),
    ("integration", "Integrationsplatform", "Udveksler data mellem fagsystemer og fællesoffentlige løsninger."),
    ("web", "Webserverklynge", "Webservere og load balancere for interne og eksterne løsninger."),
    ("mail", "Mailrelæ", "Relæ for systemmails og SMS-gateway."),
    ("mdm", "Mobilenhedsstyring", "Udrulning og styring af telefoner og tablets."),
    ("print", "Printserver", "Printkøer, follow-me-print og kuverteringsanlæg."),
    ("fil", "Filserver", "Fællesdrev og afdelingsdrev."),
    ("idp", "Identitetsudbyder", "Single sign-on og føderation med fællesoffentlige løsninger."),
    ("koe", "Beskedkø", "Asynkron beskedkø mellem fagsystemerne."),
    ("api", "API-gateway", "Samler og sikrer API'er mod borger- og medarbejderløsninger."),
    ("k8s", "Containerplatform", "Klynge, der kører kommunens egne webapplikationer."),
]
APP_KINDS = [
    ("oekonomi", "Økonomisystem", "Bogføring, betalinger og budgetopfølgning."),
    ("loen", "Lønsystem", "Lønberegning, fravær og indberetning."),
    ("esdh", "ESDH og journalisering", "Sager, dokumenter og journalisering."),
    ("omsorg", "Omsorgssystem", "Borgerjournal og kørelister i hjemmeplejen."),
    ("jobcenter", "Jobcentersystem", "Sager og samtaler for ledige og sygemeldte."),
    ("ydelse", "Ydelsessystem", "Udbetaling af kontanthjælp og andre ydelser."),
    ("byggesag", "Byggesagsbehandling", "Ansøgninger om byggetilladelse og tilsyn."),
    ("booking", "Tidsbestilling", "Tidsbestilling og kønumre i Borgerservice."),
    ("skole", "Skoleadministration", "Elevoplysninger, skema og fravær."),
    ("dagtilbud", "Pladsanvisning", "Pladsanvisning og opkrævning i dagtilbud."),
    ("borgerportal", "Selvbetjeningsportal", "Borgernes selvbetjeningsløsninger."),
    ("hjemmeside", "Hjemmeside", "Kommunens hjemmeside og driftsstatus."),
    ("telefoni", "Telefoni", "Hovednummer, omstilling og callcenter."),
    ("digitalpost", "Digital Post-integration", "Afsendelse af breve fra fagsystemerne."),
    ("sygedagpenge", "Sygedagpenge", "Sager og udbetaling af sygedagpenge."),
    ("vej", "Vej- og parkforvaltning", "Drift af veje, vintertjeneste og grønne områder."),
    ("miljoe", "Miljøtilsyn", "Tilsyn med virksomheder og landbrug."),
    ("bibliotek", "Bibliotekssystem", "Udlån, reservationer og selvbetjening."),
    ("lokaler", "Lokalebooking", "Booking af haller, lokaler og mødelokaler."),
    ("ejendom", "Ejendomsdrift", "Drift, vedligehold og energistyring af bygninger."),
    ("indkoeb", "Indkøbssystem", "E-handel, fakturamodtagelse og kontrakter."),
    ("hr", "HR og rekruttering", "Stillingsopslag, ansættelser og personalesager."),
    ("tandpleje", "Kommunal tandpleje", "Journal og indkaldelser i børnetandplejen."),
    ("sundhed", "Sundhedsjournal", "Journal for sundhedsplejen og genoptræning."),
    ("handicap", "Handicap- og psykiatrisystem", "Sager og bevillinger for voksne."),
    ("familie", "Børne- og familiesager", "Underretninger og sager om udsatte børn."),
    ("affald", "Affaldsordning", "Tømningsplaner, gebyrer og kundeservice."),
    ("gis", "Kortsystem (GIS)", "Kort, matrikler og planer."),
    ("bi", "Ledelsesinformation", "Nøgletal og rapporter til ledelsen."),
    ("noedkald", "Nødkald", "Nødkaldeanlæg i plejeboliger og hjemmeplejen."),
]
SUPPLIERS = [
    ("KMD", "KMD Servicedesk", "+45 44 60 10 00", "servicedesk@kmd.example"),
    ("Netcompany", "Netcompany Support", "+45 70 13 14 40", "support@netcompany.example"),
    ("Atea", "Atea Datacenter Support", "+45 70 25 25 50", "dcsupport@atea.example"),
    ("Systematic", "Systematic Support", "+45 87 13 32 00", "support@systematic.example"),
    ("Fujitsu", "Fujitsu Service Desk", "+45 44 89 44 89", "servicedesk@fujitsu.example"),
    ("Schultz", "Schultz Support", "+45 38 10 15 30", "support@schultz.example"),
    ("EG", "EG Kundeservice", "+45 70 13 22 11", "kundeservice@eg.example"),
    ("KOMBIT", "KOMBIT Support", "+45 33 34 94 00", "support@kombit.example"),
]

STEP_TEXTS = {
    "infra": [
        ("netvaerkstekniker", "Kontrollér forbindelser og status på udstyret, og isolér den defekte enhed."),
        ("driftstekniker", "Fastslå omfanget: er kun én enhed nede, kører resten videre; meld status til beredskabslederen."),
        ("driftstekniker", "Skift til reserveudstyret fra lageret, og indlæs den seneste natlige konfigurationsbackup."),
        ("netvaerkstekniker", "Genstart udstyret i den dokumenterede rækkefølge, og kontrollér alarmer og logs."),
        ("leverandoerkoordinator", "Opret sag hos leverandøren, og eskalér efter kontrakten, hvis løsningstiden overskrides."),
        ("driftstekniker", "Kontrollér redundansen igen, og meld til servicedesk, at udstyret er tilbage."),
    ],
    "plat": [
        ("driftstekniker", "Kontrollér tjenesternes status og at de systemer, platformen afhænger af, svarer."),
        ("driftstekniker", "Genstart de berørte servere og tjenester, og kontrollér at klyngen er samlet igen."),
        ("driftstekniker", "Gendan en beskadiget server fra seneste backup til det isolerede gendannelsesnet, og flyt den i drift."),
        ("leverandoerkoordinator", "Fejlmeld til leverandøren, og aftal forventet løsningstid."),
        ("driftstekniker", "Test login og de vigtigste funktioner, og meld til systemejerne, at platformen er tilbage."),
    ],
    "app": [
        ("systemejer", "Aktivér nødproceduren i forvaltningen, og giv medarbejderne besked."),
        ("leverandoerkoordinator", "Fejlmeld til leverandøren, og eskalér efter kontrakten."),
        ("driftstekniker", "Kontrollér integrationer og adgang via de platforme, systemet afhænger af."),
        ("driftstekniker", "Genstart applikationsserverne, og kontrollér forbindelsen til databasen."),
        ("systemejer", "Verificér systemet fagligt, og planlæg efterregistrering fra nødprocedurerne."),
        ("kommunikation", "Informér borgerne på hjemmesiden om driftsforstyrrelsen og om, hvornår systemet er tilbage."),
    ],
}
WORKAROUNDS = {
    "infra": [
        "Systemer med redundans kører videre på den anden lokation. Beredskabslederen beslutter, "
        "hvilke systemer der lukkes ned kontrolleret, og forvaltningerne følger de enkelte "
        "systemers nødprocedurer.",
        "Reserveudstyret på lager tages i brug efter den forberedte nødkonfiguration. Indtil da "
        "arbejder forvaltningerne efter nødprocedurerne for de berørte systemer.",
    ],
    "plat": [
        "Fagsystemerne på platformen er utilgængelige; forvaltningerne følger de enkelte "
        "systemers nødprocedurer. Ændringer og udrulninger udskydes, til platformen er tilbage.",
        "Kritiske funktioner kan i nødstilfælde bruges via leverandørens webadgang. Øvrige "
        "opgaver udskydes eller registreres på papir.",
    ],
    "app": [
        "Registreringer sker på blanketterne i nødmappen og indtastes, når systemet er tilbage. "
        "Hastesager behandles på papir og journaliseres i nødjournalen.",
        "Dagens lister printes hver morgen og bruges ved udfald. Borgere informeres om, at "
        "henvendelser sker pr. telefon eller ved personligt fremmøde.",
        "Medarbejderne arbejder videre i leverandørens webadgang med opslag og godkendelser. "
        "Nye sager oprettes på papir og indtastes bagefter.",
    ],
}
VERIFICATIONS = {
    "infra": "Overvågningen viser alle enheder grønne, redundansen er genetableret, og en testklient når de afhængige systemer.",
    "plat": "Alle noder er i drift og samlet i klyngen, og en testbruger kan bruge et af de fagsystemer, der kører på platformen.",
    "app": "En testbruger kan logge ind, slå en sag op og registrere en ændring, og integrationerne har kørt uden fejl.",
}
IMPACT_TEXT = {
    "minor": (None, "Enkelte medarbejdere må vente eller arbejde på papir."),
    "moderate": ("Borgere må vente længere på svar.", "Arbejdet forsinkes; nødprocedurerne bærer."),
    "serious": ("Afgørelser og udbetalinger forsinkes.", "Nødprocedurerne er under pres, og sager hober sig op."),
    "unacceptable": ("Borgere lider skade, eller lovens frister overskrides.", None),
}


def transliterate(text):
    """Lowercase slug of a name: æ → ae, ø → oe, å → aa, spaces → -."""
    text = text.lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return text


def q(text):
    """A TOML basic string (JSON's escapes are valid TOML escapes)."""
    return json.dumps(text, ensure_ascii=False)


def ml(text):
    """A TOML multi-line basic string, the way the example plan writes long text."""
    assert '"""' not in text and "\\" not in text
    return '"""\n' + text.strip() + '\n"""'


def wrap(text, width=92):
    """Break text into lines of at most `width` characters, like the example files."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return "\n".join(lines)


def make_people(rng, count):
    people = []
    used = set()

    def add(title, roles):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        name = f"{first} {last}"
        base = transliterate(name)
        pid, n = base, 2
        while pid in used:
            pid, n = f"{base}-{n}", n + 1
        used.add(pid)
        people.append({
            "id": pid,
            "name": name,
            "title": title,
            "email": f"{pid}@benchmark-kommune.dk",
            "phone": f"+45 72 {36 + len(people) // 10000:02d} {len(people) % 10000:04d}",
            "roles": roles,
        })

    for title, roles in LEADERS[:count]:
        add(title, list(roles))
    while len(people) < count:
        i = len(people) - len(LEADERS)
        if i % 3 == 0:
            title, roles = TECH_TITLES[(i // 3) % len(TECH_TITLES)]
            add(title, list(roles))
        else:
            roles = ["systemejer"] + (["krisestab"] if rng.random() < 0.1 else [])
            add(rng.choice(BUSINESS_TITLES), roles)
    return people


def make_call_tree(rng, people):
    tree = []
    by_title = {p["title"]: p["id"] for p in people[: len(LEADERS)]}
    leader = by_title.get("Driftschef, IT-drift", people[0]["id"])
    tree.append({"person": leader, "note": "Kaldes af IT-vagten eller servicedesk. Vurderer hændelsen mod aktiveringskriterierne og ringer videre inden for 15 minutter."})
    fixed = [
        ("IT-chef", "Driftschef, IT-drift", "Beslutter aktivering af planen og orienterer direktionen."),
        ("Informationssikkerhedskoordinator", "Driftschef, IT-drift", "Åbner logbogen og vurderer, om der er tale om en sikkerhedshændelse."),
        ("Kommunaldirektør", "IT-chef", "Indkalder krisestaben, hvis hændelsen rammer borgerrettede opgaver."),
        ("Kommunikationschef", "IT-chef", "Forbereder intern og ekstern kommunikation."),
        ("IT-kontraktansvarlig", "Informationssikkerhedskoordinator", "Kontakter de berørte leverandører og eskalerer efter kontrakten."),
    ]
    for title, caller, note in fixed:
        if title in by_title and caller in by_title and by_title[title] != leader:
            tree.append({"person": by_title[title], "called_by": by_title[caller], "note": note})
    in_tree = {t["person"] for t in tree}
    rest = [p["id"] for p in people if p["id"] not in in_tree]
    extra = rest[: 6 + len(people) // 25]
    for pid in extra:
        caller = rng.choice(tree)["person"]
        tree.append({"person": pid, "called_by": caller, "note": "Ringer videre til sine medarbejdere og aktiverer forvaltningens nødprocedurer."})
    return tree


def layer_sizes(n):
    infra = max(1, round(n * 0.10)) if n else 0
    plat = max(1, round(n * 0.20)) if n >= 2 else 0
    infra = min(infra, n)
    plat = min(plat, n - infra)
    return infra, plat, n - infra - plat


def make_systems(rng, n, people, reference):
    tech = [p["id"] for p in people
            if {"driftstekniker", "netvaerkstekniker"} & set(p["roles"])] or [p["id"] for p in people]
    business = [p["id"] for p in people[len(LEADERS):]
                if not {"driftstekniker", "netvaerkstekniker"} & set(p["roles"])] or [p["id"] for p in people]
    n_infra, n_plat, _ = layer_sizes(n)
    width = max(4, len(str(n)))
    systems = []  # dicts, in generation order (lower layers first)
    infra, plat = [], []  # (rto index, system index) of the lower layers
    for i in range(n):
        if i < n_infra:
            layer, kinds, owners, crit_weights = "infra", INFRA_KINDS, tech, [5, 4, 1, 0]
        elif i < n_infra + n_plat:
            layer, kinds, owners, crit_weights = "plat", PLATFORM_KINDS, tech, [2, 5, 3, 1]
        else:
            layer, kinds, owners, crit_weights = "app", APP_KINDS, business, [1, 4, 5, 3]
        stem, label, description = rng.choice(kinds)
        sid = f"{layer}-{stem}-{i + 1:0{width}d}"
        criticality = rng.choices([1, 2, 3, 4], weights=crit_weights)[0]
        lo, hi = RTO_RANGE[criticality]
        rto = rng.randint(lo, hi)
        mtpd = min(len(LADDER) - 1, rto + rng.randint(1, 3))
        rpo = rng.choice(RPOS[: 2 + (criticality > 1) + (criticality > 2)])

        # Dependencies: lower layers only; mostly ones that come back no later than this one.
        if layer == "infra":
            pool = infra
            want = rng.randint(0, 2) if pool else 0
        else:
            pool = infra if layer == "plat" else infra + plat
            want = rng.randint(3, 8)
        want = min(want, len(pool))
        in_time = [s for r, s in pool if r <= rto]
        from_in_time = min(len(in_time), sum(rng.random() < 0.95 for _ in range(want)))
        deps = set(rng.sample(in_time, from_in_time))
        while len(deps) < want:
            deps.add(rng.choice(pool)[1])
        if layer == "infra":
            infra.append((rto, i))
        elif layer == "plat":
            plat.append((rto, i))

        owner = rng.choice(owners)
        deputy_pool = [p for p in owners if p != owner] or [p["id"] for p in people if p["id"] != owner]
        deputy = rng.choice(deputy_pool) if deputy_pool else None
        reviewed = reference - datetime.timedelta(days=rng.randint(0, 182))

        steps = []
        texts = STEP_TEXTS[layer]
        for role, text in rng.sample(texts, rng.randint(2, min(5, len(texts)))):
            steps.append({"text": text, "role": role, "duration": rng.choice(STEP_DURATIONS)})

        supplier = None
        if rng.random() < 0.5:
            name, contact, phone, email = rng.choice(SUPPLIERS)
            restore = rto if rng.random() < 0.9 else min(len(LADDER) - 1, rto + 1)
            supplier = {"name": name, "contact": contact, "phone": phone, "email": email,
                        "contract_restore": LADDER[restore]}

        # Impact grows with the outage: before the RTO, at the RTO, and unacceptable at the MTPD.
        impact = []
        if rto > 0:
            impact.append((LADDER[rng.randint(0, rto - 1)], "minor" if criticality > 2 else "moderate"))
        impact.append((LADDER[rto], "serious" if criticality <= 2 else "moderate"))
        impact.append((LADDER[mtpd], "unacceptable"))

        systems.append({
            "id": sid,
            "layer": layer,
            "name": f"{label} {i + 1}",
            "description": f"{description} System nr. {i + 1} i {dict(infra='infrastrukturlaget', plat='platformslaget', app='applikationslaget')[layer]}.",
            "owner": owner,
            "deputy": deputy,
            "criticality": criticality,
            "rto": LADDER[rto],
            "rpo": rpo,
            "mtpd": LADDER[mtpd],
            "deps": sorted(deps),
            "workaround": rng.choice(WORKAROUNDS[layer]),
            "verification": VERIFICATIONS[layer],
            "last_reviewed": reviewed,
            "reviewed_by": rng.choice([owner, deputy] if deputy else [owner]),
            "supplier": supplier,
            "steps": steps,
            "impact": impact,
        })
    for s in systems:
        s["depends_on"] = [systems[d]["id"] for d in s["deps"]]
    return systems


def system_toml(s):
    out = [f"name = {q(s['name'])}", f"description = {ml(wrap(s['description']))}",
           f"owner = {q(s['owner'])}"]
    if s["deputy"]:
        out.append(f"deputy = {q(s['deputy'])}")
    out += [
        f"criticality = {s['criticality']}",
        f"rto = {q(s['rto'])}",
        f"rpo = {q(s['rpo'])}",
        f"mtpd = {q(s['mtpd'])}",
        "depends_on = [" + ", ".join(q(d) for d in s["depends_on"]) + "]",
        f"workaround = {ml(wrap(s['workaround']))}",
        f"verification = {q(s['verification'])}",
        f"last_reviewed = {s['last_reviewed'].isoformat()}",
        f"reviewed_by = {q(s['reviewed_by'])}",
    ]
    if s["supplier"]:
        sup = s["supplier"]
        out += ["", "[supplier]"] + [f"{k} = {q(sup[k])}" for k in
                                     ("name", "contact", "phone", "email", "contract_restore")]
    for step in s["steps"]:
        out += ["", "[[recovery_steps]]", f"text = {q(step['text'])}",
                f"role = {q(step['role'])}", f"duration = {q(step['duration'])}"]
    for after, level in s["impact"]:
        citizens, staff = IMPACT_TEXT[level]
        out += ["", "[[impact]]", f"after = {q(after)}", f"level = {q(level)}"]
        if citizens:
            out.append(f"citizens = {q(citizens)}")
        if staff:
            out.append(f"staff = {q(staff)}")
    return "\n".join(out) + "\n"


def plan_toml(n, people, call_tree):
    org = "Benchmark Kommune"
    n_infra, n_plat, n_app = layer_sizes(n)
    sections = {
        "purpose": wrap(
            f"Planen skal sikre, at {org} kan opretholde eller hurtigt genoptage de kritiske "
            "opgaver over for borgere, virksomheder og medarbejdere, når kommunens IT-systemer "
            "rammes af et længerevarende nedbrud, et cyberangreb, brand, vandskade eller "
            "strømsvigt. Planen er genereret til ydelsesmålinger og har samme opbygning som "
            "eksempelplanen."),
        "scope": wrap(
            f"Planen omfatter {n} systemer: {n_infra} i infrastrukturlaget (strøm, køling, "
            f"netværk, lager, virtualisering og identitet), {n_plat} platforme (databaser, "
            f"Citrix, integrationer og webservere) og {n_app} fagsystemer i forvaltningerne. "
            "Det fysiske beredskab håndteres i kommunens generelle beredskabsplan."),
        "audience": wrap(
            "Beredskabsleder, krisestab, IT-driften, systemejere i forvaltningerne og "
            "kommunikationsafdelingen."),
        "resources": wrap(
            "Primært koordineringslokale: mødelokale 1.12 på Rådhuset. Reserve: "
            "Brandstationen, Industrivej 12. Beredskabskufferten står i IT-driftens aflåste "
            "skab og indeholder en papirudgave af planen, bærbare med lokale "
            "administratorkonti, mobiltelefoner og nødkontoens adgangskoder i forseglet "
            "kuvert."),
        "backups": wrap(
            "Virtuelle servere og databaser sikkerhedskopieres hver nat til et uforanderligt "
            "lager og kopieres dagligt til en ekstern sky-kopi med 30 dages opbevaring. Der "
            "gennemføres en dokumenteret gendannelsestest af mindst ét kritisk system hvert "
            "kvartal."),
        "return_to_normal": wrap(
            "Når et system er reetableret, verificerer driftsteknikeren det teknisk og "
            "systemejeren fagligt, før brugerne får besked. Papirregistreringer indtastes, og "
            "beredskabskoordinatoren indkalder til evaluering senest 14 dage efter "
            "afslutningen."),
        "incident_handling": wrap(
            "Alle hændelser meldes først til IT-servicedesk eller IT-vagten. Opfylder "
            "hændelsen et aktiveringskriterie, kontakter IT-vagten straks beredskabslederen. "
            "Brud på persondatasikkerheden anmeldes til Datatilsynet inden for 72 timer, og "
            "væsentlige hændelser underrettes til den kompetente NIS2-myndighed."),
    }
    activation = [
        "Et kritisk system (kritikalitet 1) er nede eller forventes nede ud over halvdelen af sin RTO.",
        "To eller flere systemer med kritikalitet 2 er nede samtidig, eller ét er nede ud over sin RTO.",
        "Mistanke om eller bekræftet cyberangreb, som kan kræve, at netværket eller systemer lukkes ned.",
        "Fysisk skade eller trussel mod datacenteret (brand, vand, længerevarende strømsvigt, svigtende køling).",
    ]
    stand_down = [
        "Alle berørte systemer med kritikalitet 1 og 2 er reetableret og verificeret.",
        "Data registreret under nødprocedurerne er indtastet eller planlagt indtastet.",
        "Krisestaben har besluttet at afslutte beredskabet, og afslutningen er meddelt.",
    ]
    channels = [
        ("Mobiltelefon (opkald og SMS)", "Primær kanal for alarmering efter varslingstræet",
         "Numrene står i varslingstræet og på den trykte kontaktliste i beredskabskufferten."),
        ("Microsoft Teams, kanalen IT-beredskab", "Løbende koordinering, så længe Microsoft 365 virker",
         "Team: IT-beredskab. Bruges ikke ved mistanke om kompromitterede konti."),
        ("Fysisk mødested", "Reserve, når telefoner og Teams ikke virker",
         "Mødelokale 1.12 på Rådhuset. Reserve: Brandstationen, Industrivej 12."),
        ("SINE-radio via Beredskabet", "Kanal uafhængig af mobilnet og internet",
         "To SINE-terminaler på Brandstationen."),
        ("Hjemmeside og kommunens Facebook-side", "Information til borgere og presse",
         "Driftsstatus på benchmark-kommune.dk/driftsstatus."),
    ]

    out = [
        f"name = {q(f'IT-beredskabsplan for {org} ({n} systemer)')}",
        f"organisation = {q(org)}",
        'owner_role = "beredskabskoordinator"',
        'approver_role = "it-chef"',
        'review_interval = "52w"',
        "",
        "[sections]",
    ]
    for key in ("purpose", "scope", "audience"):
        out.append(f"{key} = {ml(sections[key])}")
    out.append("activation_criteria = [\n" + "".join(f"    {q(c)},\n" for c in activation) + "]")
    out.append("stand_down_criteria = [\n" + "".join(f"    {q(c)},\n" for c in stand_down) + "]")
    for key in ("resources", "backups", "return_to_normal", "incident_handling"):
        out.append(f"{key} = {ml(sections[key])}")
    for rid, name, resp in ROLES:
        out += ["", "[[roles]]", f"id = {q(rid)}", f"name = {q(name)}",
                f"responsibilities = {q(resp)}"]
    for p in people:
        out += ["", "[[people]]", f"id = {q(p['id'])}", f"name = {q(p['name'])}",
                f"title = {q(p['title'])}", f"email = {q(p['email'])}",
                f"phone = {q(p['phone'])}",
                "roles = [" + ", ".join(q(r) for r in p["roles"]) + "]"]
    for t in call_tree:
        out += ["", "[[call_tree]]", f"person = {q(t['person'])}"]
        if t.get("called_by"):
            out.append(f"called_by = {q(t['called_by'])}")
        out.append(f"note = {q(t['note'])}")
    for name, purpose, detail in channels:
        out += ["", "[[channels]]", f"name = {q(name)}", f"purpose = {q(purpose)}",
                f"detail = {q(detail)}"]
    return "\n".join(out) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Generate a synthetic plan folder for benchmarks (plan id = folder name, "
                    "e.g. bench-1000).")
    parser.add_argument("--systems", type=int, required=True, metavar="N",
                        help="number of systems (at least 1)")
    parser.add_argument("--seed", type=int, required=True, metavar="S",
                        help="random seed: the same seed gives the same plan")
    parser.add_argument("--reference-date", default="2026-11-28", metavar="YYYY-MM-DD",
                        help="last_reviewed dates lie in the 6 months before it "
                             "(default: 2026-11-28)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite plan.toml and systems/*.toml in an existing OUT_DIR")
    parser.add_argument("out_dir", metavar="OUT_DIR",
                        help="plan folder to write; its name is the plan id, e.g. bench-1000")
    args = parser.parse_args(argv)

    if args.systems < 1:
        parser.error("--systems must be at least 1")
    plan_id = os.path.basename(os.path.normpath(args.out_dir))
    if not SLUG.match(plan_id):
        parser.error(f"OUT_DIR's name {plan_id!r} is the plan id and must be a lowercase slug "
                     "(a-z, 0-9, - and _), e.g. bench-1000")
    try:
        reference = datetime.date.fromisoformat(args.reference_date)
    except ValueError:
        parser.error(f"--reference-date {args.reference_date!r}: expected YYYY-MM-DD")

    systems_dir = os.path.join(args.out_dir, "systems")
    if os.path.isdir(args.out_dir) and os.listdir(args.out_dir):
        if not args.force:
            parser.error(f"{args.out_dir} is not empty (use --force to overwrite)")
        if os.path.isdir(systems_dir):
            for name in os.listdir(systems_dir):
                if name.endswith(".toml"):
                    os.remove(os.path.join(systems_dir, name))
    os.makedirs(systems_dir, exist_ok=True)

    rng = random.Random(args.seed)
    people = make_people(rng, args.systems // 10 + 5)
    call_tree = make_call_tree(rng, people)
    systems = make_systems(rng, args.systems, people, reference)

    with open(os.path.join(args.out_dir, "plan.toml"), "w", encoding="utf-8") as f:
        f.write(plan_toml(args.systems, people, call_tree))
    for s in systems:
        with open(os.path.join(systems_dir, s["id"] + ".toml"), "w", encoding="utf-8") as f:
            f.write(system_toml(s))

    deps = sum(len(s["depends_on"]) for s in systems)
    first_app = next((s["id"] for s in systems if s["layer"] == "app"), None)
    print(f"wrote {args.out_dir}: plan {plan_id!r}, {len(systems)} systems, {deps} dependencies, "
          f"{len(people)} people" + (f"; first application: {first_app}" if first_app else ""),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
