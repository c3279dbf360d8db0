"""The two mapping tables from other vocabularies to Deflect's needs.

Both are data, read top to bottom; every matching row adds its needs. Change them here and
nowhere else; the README points to this file.

OpenStreetMap (tags of an Overpass export). `amenity=shelter` is deliberately *not* mapped
on its own: in OSM it is a weather shelter (bus stops, picnic huts); a homeless shelter is
`amenity=social_facility` + `social_facility=shelter`, and `amenity=shelter` counts only
with a homeless qualifier.

Open Referral HSDS (service names, descriptions and taxonomy terms): keyword patterns,
matched case-insensitively on word boundaries. A service that matches none is not a
deflection service (a food bank, a library) and is counted as out of scope, not as an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from directory.model import Need

Tags = Mapping[str, str]


def _has(key: str, *values: str) -> Callable[[Tags], bool]:
    def test(tags: Tags) -> bool:
        present = {v.strip() for v in tags.get(key, "").split(";")}
        return bool(present & set(values)) if values else key in tags
    return test


def _all(*tests: Callable[[Tags], bool]) -> Callable[[Tags], bool]:
    return lambda tags: all(test(tags) for test in tests)


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
    (_has("healthcare", "rehabilitation"), frozenset({T}), "rehabilitation"),
    (_has("social_facility:for", "drug_addicted"), frozenset({T}),
     "social facility for people who use drugs"),
    (_all(_has("social_facility:for", "drug_addicted"), _has("social_facility", "outreach")),
     frozenset({H, P}), "outreach to people who use drugs"),
    (_has("social_facility", "shelter"), frozenset({S}), "shelter"),
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


# (pattern, needs), matched against name + description + taxonomy terms.
HSDS_KEYWORDS: tuple[tuple[str, frozenset[Need]], ...] = (
    (r"detox\w*|withdrawal management|medically managed withdrawal", frozenset({D, T})),
    (r"methadone|buprenorphine|suboxone|naltrexone|vivitrol|moud|mat|"
     r"medications? for (?:opioid|addiction)|opioid treatment program|otp",
     frozenset({M, T})),
    (r"substance (?:use|abuse)|addiction|alcohol (?:and|&) drug|drug (?:and|&) alcohol|"
     r"rehab\w*|recovery (?:home|house|residence)|sud treatment|outpatient treatment|"
     r"residential treatment", frozenset({T})),
    (r"harm reduction|syringe|needle exchange|drug checking|fentanyl test strips?",
     frozenset({H})),
    (r"naloxone|narcan", frozenset({N})),
    (r"crisis|988|suicide|mobile response|psychiatric emergency", frozenset({C})),
    (r"shelter|emergency housing|overnight stay|warming cent(?:er|re)|drop-in bed",
     frozenset({S})),
    (r"peer (?:support|recovery|specialist|navigator)|recovery coach\w*|"
     r"recovery community", frozenset({P})),
)
_HSDS_COMPILED = tuple((re.compile(rf"\b(?:{pattern})\b", re.I), needs)
                       for pattern, needs in HSDS_KEYWORDS)


def needs_from_text(*texts: str) -> frozenset[Need]:
    found: set[Need] = set()
    joined = " \n ".join(texts)
    for pattern, needs in _HSDS_COMPILED:
        if pattern.search(joined):
            found |= needs
    return frozenset(found)
