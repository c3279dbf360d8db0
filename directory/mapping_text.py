"""Needs from what a service says it is: its name, description and taxonomy term names.

Read where a source has no taxonomy codes (`directory.mapping_airs` decides where it has
them), and for needs a simple CSV names in words. Directories describe a service by what it
does and also by what it is near: a food bank's partners "include homeless shelters", a
victim advocate "makes shelter referrals", a case manager links clients "to substance abuse
treatment". Only the first kind gives a need, so the text is read in this order:

1. Phone numbers, web and e-mail addresses are taken out, so "305-988-1234" is not the 988
   crisis line.
2. `MASKS` blank out what looks like a need but is not one: an animal shelter, vocational
   rehabilitation, a crisis pregnancy centre, gambling addiction, a bulb syringe, the drugs a
   detox takes people off, prevention classes; and, in descriptions, what a service only
   refers people to, helps them find, or works with (`REFERENCES`). Exclusions beat
   inclusions: "animal shelter" gives nothing, yet "an animal shelter and a homeless
   shelter" still gives shelter.
3. `PHRASES` give needs: the wording of each need in English (current clinical words: "use
   disorder", "medication-assisted", "for opioid use disorder"; UK NHS service names; the
   FindTreatment locator's names) and in Spanish, Portuguese, Italian, French, Russian and
   Arabic. A few words are needs only in a service's name (`NAME_PHRASES`): a place called a
   shelter is one; a description that mentions shelters is not.
4. `TOGETHER` rows give a need when both of their patterns occur in what the service says
   (name, description and terms read together): a counselling practice that lists
   substance abuse among the problems it works with.
5. `VETOES` drop a need when the text is about something else, unless it also says the
   words that keep it: a domestic-violence shelter's "crisis intervention" is not a
   mental-health crisis service, unless it also speaks of suicide.

A record none of whose letters could start any need's words (`SCREENS`) is not read at all:
most of a 211 export (food banks, schools, courts) is passed over that way.

The tables are in `directory.mapping_words`. Text is compared case-folded, without accents
(Arabic without its short vowels), with hyphens and apostrophes as spaces, and as whole
words: a pattern never matches inside a longer word. Acronyms that are also words are read
only in capitals, in text that is not all capitals: "MAT" (medication-assisted treatment),
never the mat of a yoga class.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from directory.mapping_words import (
    ACRONYMS,
    MASKS,
    NAME_PHRASES,
    PHRASES,
    REFERENCES,
    SCREENS,
    TOGETHER,
    VETOES,
)
from directory.model import Need

_SPACES = str.maketrans({mark: " " for mark in "'’`´ʼ\u0640-‐‑–—"})


def fold(text: str) -> str:
    """Case-folded, without accents or Arabic short vowels; hyphens, apostrophes and the
    Arabic stretching mark as spaces."""
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return text.translate(_SPACES).casefold()


def _fold_pattern(pattern: str) -> str:
    """A pattern folded as text is, its regular-expression syntax kept."""
    decomposed = unicodedata.normalize("NFKD", pattern)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.casefold()


class _Words:
    """A pattern matched as whole words: never starting or ending inside a word."""

    def __init__(self, pattern: str) -> None:
        folded = _fold_pattern(pattern).replace("(?p<", "(?P<")
        self.regex = re.compile(rf"(?<!\w)(?:{folded})(?!\w)")

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.regex.finditer(text)

    def search(self, text: str) -> re.Match[str] | None:
        return self.regex.search(text)

    def sub(self, replace: Callable[[re.Match[str]], str], text: str) -> str:
        return self.regex.sub(replace, text)


def _compile(pattern: str) -> _Words:
    return _Words(pattern)


_NOISE = re.compile(r"https?://\S+|www\.\S+|\S+@\S+\.\w+"
                    r"|\+?\(?\d{1,4}\)?(?:[\s./-]?\(?\d{2,4}\)?){2,}(?:-[A-Z]{4}\b)?"
                    r"(?:\s*(?:ext|x)\.?\s*\d+)?|\b\d{3}-[A-Z]{4}\b")
_REFERENCES = tuple(_compile(pattern) for pattern, _why in REFERENCES)
_MASKS = tuple(_compile(pattern) for pattern, _why in MASKS)
_PHRASES = tuple((needs, _compile(pattern)) for needs, pattern, _why in PHRASES)
_NAME_PHRASES = tuple((needs, _compile(pattern)) for needs, pattern, _why in NAME_PHRASES)
_TOGETHER = tuple((needs, _compile(first), _compile(second))
                  for needs, first, second, _why in TOGETHER)
_VETOES = tuple((needs, _compile(pattern), _compile(unless) if unless else None)
                for needs, pattern, unless, _why in VETOES)
_ACRONYMS = tuple((needs, re.compile(rf"(?<!\w)(?:{pattern})(?!\w)"))
                  for needs, pattern, _why in ACRONYMS)
_SCREENS = {need: re.compile(_fold_pattern(letters)) for need, letters in SCREENS.items()}
_ACRONYM_LETTERS = re.compile("|".join(rf"\b(?:{pattern})\b" for _n, pattern, _w in ACRONYMS))
_WORDS: dict[str, _Words] = {}  # acronyms as found in capitals, as words of folded text


def _blank(match: re.Match[str]) -> str:
    text = match.group(0)
    spans = [match.span(name) for name, value in match.groupdict().items() if value]
    if not spans:
        return " " * len(text)
    chars = list(text)
    for first, last in spans:
        chars[first - match.start():last - match.start()] = " " * (last - first)
    return "".join(chars)


def _read(text: str, folded: str, is_name: bool,
          possible: frozenset[Need]) -> tuple[set[Need], str]:
    """The needs one text (without its phone numbers and addresses; `folded`: the same,
    folded) gives before vetoes, of the `possible` ones only, and the text as read (folded
    and masked)."""
    found: set[Need] = set()
    for mask in _MASKS if is_name else _MASKS + _REFERENCES:
        folded = mask.sub(_blank, folded)
    if not text.isupper():  # in capitals, and still there once the masks are applied
        for needs, acronym in _ACRONYMS:
            if not needs.isdisjoint(possible) and any(
                    _WORDS.setdefault(word, _compile(re.escape(word.casefold()))).search(folded)
                    for word in (match.group(0) for match in acronym.finditer(text))):
                found |= needs
    for needs, words in _PHRASES + _NAME_PHRASES if is_name else _PHRASES:
        if not needs.isdisjoint(possible) and words.search(folded):
            found |= needs
    return found, folded


@dataclass(frozen=True)
class Reading:
    """What a record's words give (`needs`) and what they exclude whatever gave it
    (`vetoed`: the vetoes, also applied to needs that come from taxonomy codes)."""

    needs: frozenset[Need]
    vetoed: frozenset[Need]


def text_reading(name: str, *texts: str, labels: Iterable[str] = (),
                 wanted: frozenset[Need] = frozenset(Need), screen: bool = True) -> Reading:
    """Read a record's name, other texts (description, alternate name) and labels (taxonomy
    term names, read as names are) as the module docstring says; only for the `wanted` needs
    (all of the vetoes are read whatever is wanted)."""
    found: set[Need] = set()
    parts = [(cleaned, fold(cleaned), is_name)
             for text, is_name in ((name, True), *((t, False) for t in texts),
                                   *((label, True) for label in labels))
             if text and (cleaned := _NOISE.sub(" ", text))]
    said = " \n ".join(folded for _text, folded, _is_name in parts)
    acronyms = any(_ACRONYM_LETTERS.search(text) for text, _folded, _is_name in parts)
    possible = wanted if not screen or acronyms else frozenset(
        need for need, letters in _SCREENS.items() if need in wanted and letters.search(said))
    if possible:
        read: list[str] = []
        for text, folded, is_name in parts:
            given, masked = _read(text, folded, is_name, possible)
            found |= given
            read.append(masked)
        whole = " \n ".join(read)
        for needs, first, second in _TOGETHER:
            if not needs.isdisjoint(possible) and first.search(whole) and second.search(whole):
                found |= needs
    vetoed: set[Need] = set()
    for needs, pattern, unless in _VETOES:
        if pattern.search(said) and not (unless is not None and unless.search(said)):
            vetoed |= needs
    return Reading(frozenset(found - vetoed), frozenset(vetoed))


def needs_in_text(name: str, *texts: str, labels: Iterable[str] = ()) -> frozenset[Need]:
    """The needs a record's name, other texts and labels give."""
    return text_reading(name, *texts, labels=labels).needs
