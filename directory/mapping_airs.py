"""The AIRS/211 LA County Taxonomy of Human Services, read for Deflect's needs.

211 directories (and the HSDS exports made from them) index each service with terms of the
AIRS/211 LA taxonomy: a code whose levels are its hierarchy (`RX` Substance Use Disorder
Services > `RX-8450` Substance Use Disorder Treatment Programs > `RX-8450.5000` Medication
Assisted Maintenance Treatment for Opioid Use Disorders > `RX-8450.5000-510` Methadone
Clinics) and a name. A code is read by its most specific row below: the row whose code is
the longest prefix of it on that hierarchy (`RX-8450.5000-510` is under `RX-8450.5000`, which
is under `RX-8450`; `RX-8450.50` is under nothing). A row without needs says that the branch
does *not* give the need its parent gives, or that its words sound like a need it is not.
A code under no row gives nothing. Target-population terms (the `Y` branch: "Alcohol Use
Disorder", "Homeless Men") say whom a service is for, not what it does, and give nothing.

Where a service has taxonomy codes below the top level, its codes decide its needs (less
what its own words exclude, plus naloxone, which no term here names; and where none of its
codes gives a need, its name is read: see `directory.mapping.needs_of_service`); its
description decides only when it has no codes. A source that gives term names without codes
is read by those names: a name written here is read as its code; another name is read as
text.

The codes and names are those of the Open211 Miami export (211 staff's own indexing, 2019:
`taxonomy.csv` of openreferral/open211-miami-data-api, where each term's id is its code),
except: the two harm-reduction rows, from a public 211 resource database's configuration (an
SQL update of March 2019 that maps `RX-8470.1900-610` "needle exchange" and `RX-8470.1900-840`
"supervised injection sites"; the official names could not be checked). The taxonomy is
published by 211 LA County at 211taxonomy.org (subscription); its term names change over the
years (e.g. "Substance Abuse" became "Substance Use Disorder"), its codes do not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from directory.model import Need

T, D, M, H, N, C, S, P = (Need.TREATMENT, Need.DETOX, Need.MOUD, Need.HARM_REDUCTION,
                          Need.NALOXONE, Need.CRISIS, Need.SHELTER, Need.PEER_SUPPORT)
NONE: frozenset[Need] = frozenset()

# (code, term name, needs, why), any order: the longest matching code decides. The names are
# the Miami export's, except where empty (a branch whose own name the sources do not give) and
# the two harm-reduction rows (the configuration's words).
AIRS_TERMS: tuple[tuple[str, str, frozenset[Need], str], ...] = (
    # Substance use disorder services (RX).
    ("RX-8450", "Substance Use Disorder Treatment Programs", frozenset({T}),
     "outpatient, day, inpatient and residential treatment, counselling"),
    ("RX-8450.5000", "Medication Assisted Maintenance Treatment for Opioid Use Disorders",
     frozenset({M, T}), "medication for opioid use disorder (methadone, buprenorphine, "
     "naltrexone for opioid use disorder)"),
    ("RX-8450.5000-510", "Methadone Clinics", frozenset({M, T}), "methadone"),
    ("RX-8450.5000-600", "Naltrexone Based MAT Programs", frozenset({M, T}),
     "extended-release naltrexone for opioid use disorder"),
    ("RX-8450.7900", "Smoking Cessation", NONE, "tobacco, under treatment programs"),
    ("RX-1700", "Detoxification", frozenset({D, T}), "withdrawal management, any substance"),
    ("RX-8500", "Transitional Residential Substance Use Disorder Services", frozenset({T}),
     "residential recovery services after treatment"),
    ("RX-8500.6500", "Recovery Homes/Halfway Houses", frozenset({T}),
     "recovery homes, halfway houses (sober living)"),
    ("RX-8470", "Supportive Substance Use Disorder Services", NONE,
     "referrals, hotlines, family interventions, drug courts: not a service to take someone to"),
    ("RX-8470.6900", "Relapse Prevention Programs", frozenset({T}),
     "relapse prevention groups and programs, part of treatment"),
    ("RX-8470.8100", "Smoking Cessation Support", NONE, "tobacco"),
    ("RX-8470.1900-610", "needle exchange", frozenset({H}),
     "needle and syringe exchange (a 211 configuration, name unverified)"),
    ("RX-8470.1900-840", "supervised injection sites", frozenset({H}),
     "supervised consumption (a 211 configuration, name unverified)"),
    ("RP-6400.8000-330", "Integrated Dual Diagnosis Treatment", frozenset({T}),
     "mental illness and substance use disorder treated together"),
    ("RX-0400", "", NONE,
     "testing, self-evaluation, court orders"),
    ("RX-0400.1500", "Central Intake/Assessment for Substance Use Disorders", frozenset({T}),
     "the door into publicly funded treatment (a central intake or receiving facility)"),
    ("RX-1750", "DUI Offender Programs", NONE, "court-ordered DUI education"),
    ("RX-8250", "Substance Use Disorder Education/Prevention", NONE, "education, prevention"),
    # Mental health crisis (RP-1500) and what only sounds like it.
    ("RP-1500", "Crisis Intervention", frozenset({C}),
     "crisis lines, mobile and in-person crisis intervention, crisis stabilisation"),
    ("RP-1500.1400-100", "Bullying Helplines", NONE, "not a mental-health crisis service"),
    ("RP-1500.1400-150", "Child Abuse Hotlines", NONE, "reporting child abuse"),
    ("RP-1500.1400-180", "Crisis Pregnancy Hotlines", NONE, "pregnancy, not mental health"),
    ("RP-1500.1400-200", "Domestic Violence Hotlines", NONE, "domestic violence"),
    ("RP-1500.1400-300", "Human Trafficking Hotlines", NONE, "human trafficking"),
    ("RP-1500.1400-700", "Runaway/Homeless Youth Helplines", NONE,
     "runaway youth: messages and referrals"),
    ("RP-1500.1400-750", "Sexual Assault Hotlines", NONE, "sexual assault"),
    ("RP-1500.1400-260", "GLBTQ Helplines", NONE,
     "LGBTQ information and peer-counselling lines (the Trevor lines are also suicide lines)"),
    ("RX-8470.8200", "Substance Use Disorder Crisis Intervention", NONE,
     "Marchman Act petitions and drug courts in the real exports: not a crisis service"),
    # Shelter (BH-1800) and the shelters that are not for the person in front of an officer.
    ("BH-1800", "Emergency Shelter", frozenset({S}), "emergency shelter"),
    ("BH-1800.8500", "Homeless Shelter", frozenset({S}), "homeless shelter, cold-weather beds"),
    ("BH-1800.1500", "Crisis Shelter", NONE,
     "shelters for victims of domestic violence, trafficking or assault: confidential places "
     "reached through their hotline, not a walk-in shelter"),
    ("BH-1800.1500-700", "Runaway/Youth Shelters", frozenset({S}),
     "youth shelters (age limits apply)"),
    ("BH-1800.3500", "Homeless Drop In Centers", NONE, "day centres: no beds"),
    ("BH-1850", "Emergency Shelter Clearinghouses", NONE, "they place people; not a shelter"),
    ("BH-8600", "Transitional Housing/Shelter", NONE, "transitional housing, by application"),
    ("TH-2600.1580", "Disaster Related Shelter Services", NONE, "opens only in a disaster"),
    ("PD-7600.0600", "Animal Shelters", NONE, "animals"),
    ("PX", "Volunteer Opportunities", NONE, "volunteering at a shelter is not a shelter"),
    # Peer support: mutual-help groups for the person's own substance use.
    ("PN-8100.0500", "Addictions/Substance Use Disorder Support Groups", frozenset({P}),
     "12-step and other mutual-help groups"),
    ("PN-8100.0500-070", "Alcohol Use Disorder Support Groups", frozenset({P}), "AA and others"),
    ("PN-8100.0500-180", "Drug Use Disorder Support Groups", frozenset({P}), "NA and others"),
    ("PN-8100.0500-230",
     "Families/Friends of Individuals With an Alcohol Use Disorder Support Groups", NONE,
     "for families (Al-Anon), not the person"),
    ("PN-8100.0500-235",
     "Families/Friends of Individuals With a Drug Use Disorder Support Groups", NONE,
     "for families (Nar-Anon), not the person"),
    ("PN-8100.0500-250", "Gambling Addiction Support Groups", NONE, "gambling"),
    ("PN-8100.0500-800", "Sexual/Love Addiction Support Groups", NONE, "sex and love addiction"),
    ("PN-8100.0500-900", "Weight Related Support Groups", NONE, "food and weight"),
    ("RP-1400.8000-250", "Gambling Addiction Counseling/Treatment", NONE, "gambling"),
    # Whom a service is for, not what it does.
    ("Y", "", NONE, "target populations (e.g. YF-8000 Substance Use "
     "Disorders, YV-3000.3050 Homeless Men)"),
)

_CODE = re.compile(r"[A-Z]{1,2}(?:-\d{4}(?:\.\d{4}(?:-\d{3}(?:\.\d{2})?)?)?)?")


def airs_code(text: str) -> str | None:
    """The AIRS code in `text` (case and spaces ignored), or None if it is not one."""
    code = "".join(text.split()).upper()
    return code if _CODE.fullmatch(code) else None


def is_airs_code(text: str) -> bool:
    """A code below the top level (`RX-8450`, not `RX`): only those tell an AIRS-indexed
    source apart from another vocabulary's two-letter codes (FindTreatment's `SA`, `MH`)."""
    code = airs_code(text)
    return code is not None and "-" in code


def _index() -> tuple[dict[str, frozenset[Need]], dict[str, frozenset[Need]]]:
    codes: dict[str, frozenset[Need]] = {}
    names: dict[str, frozenset[Need]] = {}
    for code, name, needs, _why in AIRS_TERMS:
        if airs_code(code) != code or code in codes:
            raise ValueError(f"AIRS_TERMS: {code!r} is not a code, or is listed twice")
        codes[code] = needs
        if name:
            names[" ".join(name.split()).casefold()] = needs
    return codes, names


_BY_CODE, _BY_NAME = _index()


def _parents(code: str) -> Iterable[str]:
    """The code and its ancestors, most specific first: RX-8450.5000-510, RX-8450.5000,
    RX-8450, RX."""
    yield code
    for cut in range(len(code) - 1, 0, -1):
        if code[cut] in ".-":
            yield code[:cut]


def needs_of_code(code: str) -> frozenset[Need]:
    """The needs one AIRS code gives: those of its most specific row, else none."""
    for prefix in _parents(code):
        needs = _BY_CODE.get(prefix)
        if needs is not None:
            return needs
    return NONE


def needs_of_term_name(name: str) -> frozenset[Need] | None:
    """The needs of an AIRS term given by its name alone; None if the name is not one here."""
    return _BY_NAME.get(" ".join(name.split()).casefold())


def needs_from_airs(codes: Iterable[str]) -> frozenset[Need]:
    """The needs of a service indexed with these AIRS codes (each read with `airs_code`)."""
    found: set[Need] = set()
    for text in codes:
        code = airs_code(text)
        if code is not None:
            found |= needs_of_code(code)
    return frozenset(found)
