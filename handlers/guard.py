"""Who is writing: the sender's membership, the coordinator-only check, and the audit entry
a coordinator command leaves."""

from __future__ import annotations

from telegram import Update

from bot.runtime import DeflectContext
from members import Membership, Role
from referrals import audit


async def sender_membership(update: Update, context: DeflectContext) -> Membership | None:
    """The sender's membership; None for the public (and for updates without a sender)."""
    user = update.effective_user
    return await context.runtime.members.membership(user.id) if user else None


async def coordinator(update: Update, context: DeflectContext, refusal: str
                      ) -> Membership | None:
    """The sender's membership if they are a program coordinator; else `refusal` is sent
    and None returned."""
    membership = await sender_membership(update, context)
    if membership is None or membership.role is not Role.COORDINATOR:
        if update.effective_chat is not None:
            await update.effective_chat.send_message(refusal)
        return None
    return membership


async def audited(update: Update, context: DeflectContext, membership: Membership,
                  command: str) -> None:
    """Log one use of a coordinator command: the day, the member's keyed hash, the command."""
    user = update.effective_user
    runtime = context.runtime
    await audit.record(runtime.storage.audit,
                       runtime.members.user_key(user.id) if user else None,
                       membership.role.value, command)
