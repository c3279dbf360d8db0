"""The number to call in an emergency, by the agency's country.

Source: ITU-T E.161.1 / the ITU list of national emergency numbers, and the EU's single
emergency number 112 (Universal Service Directive, art. 26). 112 also reaches emergency
services from any GSM mobile phone in most countries, so it is the fallback.
"""

from __future__ import annotations

_EU_112 = ("AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK "
           "CH NO IS LI MK AL RS ME BA MD UA").split()

EMERGENCY_NUMBERS: dict[str, str] = {
    **dict.fromkeys(_EU_112, "112"),
    "US": "911", "CA": "911", "MX": "911", "AR": "911", "PH": "911",
    "GB": "999", "IE": "112", "HK": "999", "MY": "999", "SG": "995",
    "AU": "000", "NZ": "111", "ZA": "10177", "IN": "112", "BR": "192",
    "LB": "140", "JP": "119", "KR": "119", "CN": "120", "RU": "112", "TR": "112",
}
DEFAULT_EMERGENCY_NUMBER = "112"


def emergency_number(country: str) -> str:
    return EMERGENCY_NUMBERS.get(country.upper(), DEFAULT_EMERGENCY_NUMBER)
