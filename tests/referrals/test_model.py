"""The referral model: who made it, what a row may hold, and the rule for outcomes."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from directory.model import Need
from members import Agency, Membership, Role
from members.keys import CODE_ALPHABET
from referrals.model import (
    CODE_LENGTH,
    DistanceBand,
    Outcome,
    Pathway,
    Referral,
    distance_band,
    outcome_may_change,
)
from referrals.privacy import REFERRAL_SHAPES, inspect


def test_a_referral_by_a_member_carries_their_role_and_agency_and_nothing_of_them() -> None:
    officer = Membership(Agency(7, "Chicago PD", "US"), Role.OFFICER)
    moment = datetime(2026, 11, 20, 15, 42, 17, tzinfo=UTC)
    referral = Referral.made_by(officer, pathway=Pathway.ACTIVE_OUTREACH,
                                needs=(Need.SHELTER, Need.DETOX, Need.DETOX),
                                service_id="demo-001", lat=41.878112, lon=-87.629801,
                                distance_m=1200, consent=True, referral_id="ab" * 16)
    assert (referral.referrer_role, referral.agency_id) == ("officer", 7)
    assert referral.needs == (Need.DETOX, Need.SHELTER)  # in NEEDS order, once each
    assert (referral.area_cell, referral.distance_band) == ("dp3wj", "1-5km")
    assert referral.outcome is Outcome.PENDING
    assert referral.id == "ab" * 16
    assert re.fullmatch(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}", referral.code)
    public = Referral.made_by(None, pathway=Pathway.SELF_REFERRAL, consent=False, now=moment)
    assert (public.referrer_role, public.agency_id, public.outcome) == (
        "community", None, Outcome.DECLINED)
    assert public.created_hour == "2026-11-20T15:00Z"


def test_distance_bands_are_the_enums_values() -> None:
    assert [distance_band(d) for d in (None, 999, 1000, 4999, 5000, 19_999, 20_000)] == [
        None, "<1km", "1-5km", "1-5km", "5-20km", "5-20km", ">20km"]
    assert {distance_band(d) for d in (1, 2000, 6000, 30_000)} == {b.value for b in DistanceBand}


def test_an_outcome_changes_only_with_consent_and_never_after_an_arrival() -> None:
    assert outcome_may_change(True, Outcome.PENDING)
    assert outcome_may_change(True, Outcome.NOT_YET)
    assert not outcome_may_change(False, Outcome.DECLINED)
    assert not outcome_may_change(True, Outcome.ENGAGED)


def test_the_privacy_rules_accept_every_value_the_model_makes_and_nothing_else() -> None:
    for pathway in Pathway:
        assert inspect("referral", "pathway", pathway.value) is None
    for outcome in Outcome:
        assert inspect("referral", "outcome", outcome.value) is None
    for role in Role:
        assert inspect("referral", "referrer_role", role.value) is None
    referral = Referral.made_by(None, pathway=Pathway.NALOXONE_PLUS, needs=tuple(Need),
                                service_id="node/123", lat=41.9, lon=-87.7, distance_m=30_000,
                                consent=True)
    for column in ("id", "code", "created_hour", "needs", "service_id", "area_cell",
                   "distance_band"):
        value = getattr(referral, column)
        text = ";".join(n.value for n in value) if column == "needs" else value
        assert inspect("referral", column, text) is None, column
    assert set(REFERRAL_SHAPES) >= {"pathway", "outcome", "referrer_role", "distance_band"}
    finding = inspect("referral", "pathway", "met him at Clark and Lake")
    assert finding is not None
    assert finding.what == "free text in the referral log"
    assert inspect("referral", "code", "IL0O1A") is not None  # not the code alphabet
