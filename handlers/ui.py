"""What the conversations show that is not a sentence: labels of the model's values."""

from __future__ import annotations

from directory.i18n import N_
from referrals.model import Pathway

PATHWAY_NAMES = {
    Pathway.SELF_REFERRAL: N_("Self-referral"),
    Pathway.ACTIVE_OUTREACH: N_("Active outreach"),
    Pathway.NALOXONE_PLUS: N_("Naloxone Plus (after an overdose)"),
    Pathway.OFFICER_PREVENTION: N_("Officer prevention (no charges)"),
    Pathway.OFFICER_INTERVENTION: N_("Officer intervention (charges held)"),
    Pathway.COMMUNITY_RESPONSE: N_("Community response"),
}
