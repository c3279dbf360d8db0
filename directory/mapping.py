"""The mapping tables from other vocabularies to Deflect's needs.

All are data, read top to bottom; every matching row adds its needs. Change them here and
nowhere else; the README points to this file.

OpenStreetMap (tags of an Overpass export). `amenity=shelter` is deliberately *not* mapped
on its own: in OSM it is a weather shelter (bus stops, picnic huts); a homeless shelter is
`amenity=social_facility` + `social_facility=shelter`, and `amenity=shelter` counts only
with a homeless qualifier.

Open Referral HSDS and the simple CSV (`needs_of_service`): AIRS/211 taxonomy codes where a
record has them (`directory/mapping_airs.py`, `AIRS_TERMS`), its name, description and term
names where it has none (`directory/mapping_text.py` reads them with the tables of
`directory/mapping_words.py`: phrases in English, Spanish, Portuguese, Italian, French,
Russian and Arabic, with exclusions that beat inclusions).
Measured on a labelled set of real 211 records: tests/directory/data/needs/. A record that
meets no need is not a deflection service (a food bank, a library) and is counted as out of
scope, not as an error.

FindTreatment.gov (SAMHSA's treatment locator): the facility type, and the service names its
JSON rows list (service codes where an export carries them), matched whole. Mental health
treatment alone is not a need here: a mental-health facility is in scope only through crisis,
peer support or substance use services it lists. No locator service means harm reduction or
an emergency shelter, so neither comes from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from directory.mapping_airs import (
    AIRS_TERMS,
    airs_code,
    is_airs_code,
    needs_from_airs,
    needs_of_term_name,
)
from directory.mapping_text import needs_in_text, text_reading
from directory.model import Need

Tags = Mapping[str, str]


def _has(key: str, *values: str) -> Callable[[Tags], bool]:
    wanted = frozenset(values)

    def test(tags: Tags) -> bool:
        value = tags.get(key)
        if value is None:  # the usual case, and every OSM import asks each feature
            return False
        return not wanted.isdisjoint(v.strip() for v in value.split(";")) if wanted else True
    return test


def _all(*tests: Callable[[Tags], bool]) -> Callable[[Tags], bool]:
    return lambda tags: all(test(tags) for test in tests)


# Whom a social facility is only for, when it is not for any adult who needs a bed tonight.
_ONLY_FOR = {"abused", "woman", "women", "child", "children", "juvenile", "orphan",
             "refugee", "migrant", "senior", "disabled", "mental_health", "victim"}


def _open_to_adults(tags: Tags) -> bool:
    groups = {v.strip() for v in tags.get("social_facility:for", "").split(";") if v.strip()}
    return not groups or bool(groups - _ONLY_FOR)


T, D, M, H, N, C, S, P = (Need.TREATMENT, Need.DETOX, Need.MOUD, Need.HARM_REDUCTION,
                          Need.NALOXONE, Need.CRISIS, Need.SHELTER, Need.PEER_SUPPORT)

# (condition on the tags, needs it adds, what it means), top to bottom.
OSM_TAGS: tuple[tuple[Callable[[Tags], bool], frozenset[Need], str], ...] = (
    (_has("healthcare:speciality", "addiction", "substance_abuse", "addiction_medicine"),
     frozenset({T}), "addiction medicine"),
    (_has("healthcare:speciality", "detoxification", "detox"), frozenset({D, T}),
     "withdrawal management"),
    (_has("healthcare:speciality", "opioid_substitution", "methadone"), frozenset({M, T}),
     "opioid substitution (methadone, buprenorphine)"),
    (_all(_has("healthcare", "counselling"), _has("healthcare:counselling", "addiction")),
     frozenset({T, P}), "addiction counselling"),
    # healthcare=rehabilitation alone is any medical rehabilitation (orthopaedic, cardiac):
    # only with an addiction speciality (the first row) is it treatment.
    (_has("social_facility:for", "drug_addicted"), frozenset({T}),
     "social facility for people who use drugs"),
    (_all(_has("social_facility:for", "drug_addicted"), _has("social_facility", "outreach")),
     frozenset({H, P}), "outreach to people who use drugs"),
    (_all(_has("social_facility", "shelter"), _open_to_adults), frozenset({S}),
     "shelter (not one only for abused women, children or refugees: a refuge that would "
     "turn the person away)"),
    (_all(_has("social_facility:for", "homeless"),
          _has("social_facility", "shelter", "housing", "group_home")),
     frozenset({S}), "housing for homeless people"),
    (_all(_has("amenity", "shelter"), _has("social_facility:for", "homeless")),
     frozenset({S}), "shelter with a homeless qualifier (plain amenity=shelter is weather)"),
    (_has("vending", "syringes", "drug_checking_kits"), frozenset({H}), "syringe vending"),
    (_has("vending", "naloxone"), frozenset({N, H}), "naloxone vending"),
    (_has("harm_reduction", "yes"), frozenset({H}), "harm reduction service"),
    (_has("needle_exchange", "yes"), frozenset({H}), "needle exchange"),
    (_has("drug_checking", "yes"), frozenset({H}), "drug checking"),
    (_has("naloxone", "yes"), frozenset({N}), "naloxone available"),
    (_all(_has("healthcare:speciality", "psychiatry"), _has("emergency", "yes")),
     frozenset({C}), "psychiatric emergency"),
    (_has("social_facility", "crisis_center"), frozenset({C}), "crisis centre"),
    (_has("healthcare:speciality", "peer_support"), frozenset({P}), "peer support"),
)


def needs_from_osm(tags: Tags) -> frozenset[Need]:
    found: set[Need] = set()
    for test, needs, _meaning in OSM_TAGS:
        if test(tags):
            found |= needs
    return frozenset(found)


# Open Referral HSDS and the simple CSV: taxonomy codes first, text where there are none.
# `Term` is one taxonomy term of a service: (code, name); either may be empty.
Term = tuple[str, str]

# Needs no AIRS term in `AIRS_TERMS` names: text gives them even to a service with codes.
TEXT_ALSO: frozenset[Need] = frozenset({N})


def needs_of_service(name: str, texts: Iterable[str] = (),
                     terms: Iterable[Term] = ()) -> frozenset[Need]:
    """The needs of a directory record: its name, its other texts (alternate name,
    description) and its taxonomy terms.

    Where the terms carry AIRS/211 codes, the codes decide (`directory.mapping_airs`), less
    what the record's own words exclude (a domestic-violence programme's "crisis
    intervention" is not a mental-health crisis service), plus naloxone, which no term names;
    where none of its codes gives a need, the record's name is read (a "Mobile Crisis Team"
    indexed only as mental health evaluation), never its description. Without codes, AIRS
    term names given alone are read as their codes, other term names as names, and the name
    and texts as `directory.mapping_text` says.
    """
    texts = tuple(text for text in texts if text)
    terms = tuple(terms)
    codes = [code for code, _name in terms if airs_code(code) is not None]
    if any(is_airs_code(code) for code in codes):
        words = text_reading(name, *texts, wanted=TEXT_ALSO)
        coded = needs_from_airs(codes) - words.vetoed
        if not coded:  # codes of other things only: what the staff named the service
            coded = needs_in_text(name) - words.vetoed
        return frozenset(coded | (words.needs & TEXT_ALSO))
    found: set[Need] = set()
    labels: list[str] = []
    for _code, term_name in terms:
        known = needs_of_term_name(term_name) if term_name else None
        if known is not None:
            found |= known
        elif term_name:
            labels.append(term_name)
    return frozenset(found | needs_in_text(name, *texts, labels=labels))


def needs_from_text(*texts: str) -> frozenset[Need]:
    """Needs written in words (a CSV's categories, a name and description): the first text
    is read as a name."""
    return needs_in_text(*texts) if texts else frozenset()


# FindTreatment.gov locator services: (codes, names, needs, what it means), top to bottom.
# JSON rows carry names only (`f3` of each `services` entry, joined by "; "); codes are what
# the National Directory's exports and the locator's filters use. Names match whole, ignoring
# case and runs of spaces; both wordings are listed: N-SSATS/N-MHSS (2019) and N-SUMHSS
# (current). A row without needs records a name that must *not* give the need it sounds like.
FINDTREATMENT_SERVICES: tuple[tuple[tuple[str, ...], tuple[str, ...], frozenset[Need], str],
                              ...] = (
    (("SA",), ("Substance use treatment",), frozenset({T}),
     "type of care: substance use treatment"),
    (("SUMH", "CO"),
     ("Treatment for co-occurring serious mental health illness/serious emotional disturbance "
      "and substance use disorders",
      "Treatment for co-occurring serious mental illness and substance use disorders",
      "Treatment for co-occurring substance use plus either serious mental illness (SMI) in "
      "adults and/or serious emotional disturbance (SED) in children"),
     frozenset({T}), "type of care: co-occurring mental and substance use disorders"),
    (("MHSU",), ("Persons with co-occurring mental and substance use disorders",
                 "Clients with co-occurring mental and substance use disorders"),
     frozenset({T}), "a program for people with substance use and mental disorders"),
    (("IDD",), ("Integrated dual disorders treatment",
                "Integrated Mental and Substance Use Disorder treatment"),
     frozenset({T}), "substance use and mental illness treated together"),
    (("SACA",), ("Substance use counseling approach", "Substance use disorder counseling"),
     frozenset({T}), "substance use counselling"),
    # Detox is not treatment by itself (FindTreatment.gov says so): detox only.
    (("DT", "OD", "RD", "HID"),
     ("Detoxification", "Outpatient detoxification", "Residential detoxification",
      "Hospital inpatient detoxification"), frozenset({D}), "detox, in any setting"),
    (("ADTX", "BDTX", "CDTX", "MDTX", "ODTX", "MDET", "DLC"),
     ("Alcohol Detoxification", "Benzodiazepines Detoxification", "Cocaine Detoxification",
      "Methamphetamines detoxification", "Opioid Detoxification", "Opioids detoxification",
      "Routinely uses medication for detoxification",
      "Medication routinely used during detoxification",
      "Lofexidine or Clonidine detoxification"), frozenset({D}), "detox from a substance"),
    (("OMB", "MU", "BU", "NU"),
     ("Outpatient methadone/buprenorphine or naltrexone treatment",
      "Methadone used in Treatment", "Buprenorphine used in Treatment",
      "Naltrexone used in Treatment"), frozenset({M, T}), "opioid medications given"),
    (("OTP", "SOTP"),
     ("SAMHSA-certified Opioid Treatment Program", "Federally-certified Opioid Treatment Program",
      "SAMHSA certification for opioid treatment program (OTP)"), frozenset({M, T}),
     "a certified opioid treatment program (methadone)"),
    (("MM", "BUM", "UB", "UN", "RPN", "MWS"),
     ("Methadone maintenance", "Methadone maintenance for predetermined time",
      "Buprenorphine maintenance", "Buprenorphine maintenance for predetermined time",
      "Prescribes/administers buprenorphine", "Prescribes buprenorphine",
      "Prescribes/administers naltrexone", "Prescribes naltrexone",
      "Relapse prevention from naltrexone", "Relapse prevention with naltrexone",
      "Maintenance service with medically supervised withdrawal after stabilization"),
     frozenset({M, T}), "the facility prescribes or maintains opioid medication"),
    (("DM", "DB"), ("Methadone detoxification", "Buprenorphine detoxification"),
     frozenset({M, D, T}), "detox with an opioid medication"),
    # Buprenorphine with naloxone (Suboxone) is a medication for opioid use disorder: the
    # naloxone in it is not naloxone given out to reverse overdoses.
    (("METH", "BWN", "BWON", "BERI", "BSDM"),
     ("Methadone", "Buprenorphine with naloxone", "Buprenorphine with naloxone (Suboxone®)",
      "Buprenorphine without naloxone", "Buprenorphine (extended-release, injectable)",
      "Buprenorphine sub-dermal implant"), frozenset({M, T}), "methadone or buprenorphine"),
    (("NOE",), ("Naloxone and overdose education",), frozenset({N}),
     "naloxone and overdose education"),
    (("WI", "CIT", "PEON", "PEOFF"),
     ("Psychiatric emergency walk-in services", "Crisis intervention team",
      "Psychiatric emergency onsite services", "Psychiatric emergency mobile/off-site services"),
     frozenset({C}), "emergency mental health services"),
    (("PEER", "RC", "SHG"),
     ("Consumer-run (peer-support) services", "Mentoring/peer support", "Recovery coach",
      "Self-help groups"), frozenset({P}), "peer support, recovery coaching, mutual help"),
    # What these do *not* mean.
    (("MH",), ("Mental health treatment",), frozenset(),
     "mental health treatment alone: not a deflection need"),
    (("MOA", "NMOA", "NOOP", "PAIN"),
     ("Accepts clients on opioid medication",
      "Accepts clients on opioid medication but prescribed elsewhere",
      "Accepts clients using MAT but prescribed elsewhere",
      "Does not treat opioid addiction", "Does not treat opioid use disorders",
      "Does not use MAT for opioid use disorders",
      "Use methadone/buprenorphine for pain management or emergency dosing"), frozenset(),
     "accepts people on opioid medication prescribed elsewhere, or gives none: not moud"),
    (("NXN", "VTRL"), ("Naltrexone (oral)", "Naltrexone (extended-release, injectable)"),
     frozenset(), "naltrexone among pharmacotherapies is also for alcohol: not moud by itself"),
    (("HH", "HS", "SH"),
     ("Transitional housing", "Transitional housing, halfway house, or sober home",
      "Housing services", "Supported housing"), frozenset(),
     "recovery or supported housing, help finding housing: not an emergency shelter"),
    (("HI", "RES"),
     ("Hospital inpatient/24-hour hospital inpatient", "Residential/24-hour residential"),
     frozenset(), "a 24-hour care setting (not opening hours), for any disorder"),
    (("SPS",), ("Suicide prevention services",), frozenset(),
     "risk screening and staff training: not a crisis service to take someone to"),
)

# FindTreatment.gov `typeFacility`: (value, needs, what it means).
FINDTREATMENT_FACILITY_TYPES: tuple[tuple[str, frozenset[Need], str], ...] = (
    ("SA", frozenset({T}), "a substance use treatment facility"),
    ("OTP", frozenset({M, T}), "an opioid treatment program (methadone, buprenorphine)"),
    ("BUPREN", frozenset({M, T}), "a buprenorphine prescriber"),
    ("MH", frozenset(), "a mental health facility: needs only from its services"),
    ("HRSA", frozenset(), "a health center: needs only from its services"),
)


def _casefold_name(text: str) -> str:
    return " ".join(text.split()).casefold()


def _findtreatment_index() -> tuple[dict[str, frozenset[Need]], dict[str, frozenset[Need]]]:
    """(names casefolded -> needs, codes -> needs), the union where a name or code repeats."""
    names: dict[str, frozenset[Need]] = {}
    codes: dict[str, frozenset[Need]] = {}
    for row_codes, row_names, needs, _meaning in FINDTREATMENT_SERVICES:
        for code in row_codes:
            codes[code] = codes.get(code, frozenset()) | needs
        for name in row_names:
            key = _casefold_name(name)
            names[key] = names.get(key, frozenset()) | needs
    return names, codes


_FINDTREATMENT_NAMES, _FINDTREATMENT_CODES = _findtreatment_index()

__all__ = ["AIRS_TERMS", "FINDTREATMENT_FACILITY_TYPES", "FINDTREATMENT_SERVICES", "OSM_TAGS",
           "TEXT_ALSO", "Term", "needs_from_findtreatment", "needs_from_osm", "needs_from_text",
           "needs_of_service"]
_FINDTREATMENT_TYPES = {value: needs for value, needs, _meaning in FINDTREATMENT_FACILITY_TYPES}


def needs_from_findtreatment(facility_type: str, services: Iterable[str]) -> frozenset[Need]:
    """Needs of a locator row: its facility type, and each service name (or code) it lists."""
    found = set(_FINDTREATMENT_TYPES.get(facility_type.strip().upper(), frozenset()))
    for service in services:
        text = service.strip()
        found |= _FINDTREATMENT_CODES.get(text, frozenset())
        found |= _FINDTREATMENT_NAMES.get(_casefold_name(text), frozenset())
    return frozenset(found)
