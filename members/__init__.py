"""Members: agencies, memberships, invite codes, keyed hashes and language choices.

No Telegram here and no SQL: `Members` holds the rules (who may join, how codes and ids are
keyed) and keeps its rows through a `MemberStore` (members/ports.py), which a storage backend
implements (storage/sqlite/members.py).
"""

from members.keys import Keys, new_code
from members.model import Agency, JoinResult, Membership, Role
from members.ports import MemberCount, MemberStore, Selection
from members.service import MAX_FAILED_JOINS_PER_HOUR, MAX_FAILED_JOINS_PER_HOUR_ALL, Members

__all__ = ["MAX_FAILED_JOINS_PER_HOUR", "MAX_FAILED_JOINS_PER_HOUR_ALL", "Agency", "JoinResult",
           "Keys", "MemberCount", "MemberStore", "Members", "Membership", "Role", "Selection",
           "new_code"]
