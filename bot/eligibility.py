"""Deployment-configured eligibility questions, read from a documented JSON file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class EligibilityQuestion:
    id: str
    text: dict[str, str]  # locale -> text; "en" always present
    ineligible_answer: bool  # True: answering yes rules deflection out
    explanation: dict[str, str]

    def text_in(self, locale: str) -> str:
        return self.text.get(locale) or self.text.get(locale.split("_")[0]) or self.text["en"]

    def explanation_in(self, locale: str) -> str:
        return (self.explanation.get(locale) or self.explanation.get(locale.split("_")[0])
                or self.explanation["en"])


class EligibilityFileError(ValueError):
    pass


def load_eligibility(path: Path | None = None) -> tuple[EligibilityQuestion, ...]:
    """The questions from `path`, or the bundled default (one question on violence)."""
    if path is None:
        text = resources.files("bot.data").joinpath("eligibility.json").read_text("utf-8")
        name = "bundled eligibility.json"
    else:
        text = path.read_text(encoding="utf-8")
        name = str(path)
    try:
        data = json.loads(text)
        questions = tuple(
            EligibilityQuestion(
                id=str(item["id"]), text=dict(item["text"]),
                ineligible_answer=str(item["ineligible_answer"]).lower() == "yes",
                explanation=dict(item["explanation"]),
            )
            for item in data["questions"]
        )
    except (ValueError, KeyError, TypeError) as error:
        raise EligibilityFileError(f"{name}: {error}") from error
    for question in questions:
        if "en" not in question.text or "en" not in question.explanation:
            raise EligibilityFileError(f"{name}: question {question.id}: no English text")
    return questions


def missing_translations(questions: tuple[EligibilityQuestion, ...],
                         locales: tuple[str, ...]) -> list[str]:
    """"question id: locale" for every shipped locale a question has no text for (it will be
    asked in English there)."""
    return [f"{question.id}: {locale}" for question in questions for locale in locales
            if locale not in question.text or locale not in question.explanation]
