"""The deflection checklist (members) and find-help (anyone): one conversation, two flows.

Checklist: safety -> (overdose steps) -> pathway -> eligibility -> consent -> needs ->
location -> results -> referral. Find help starts at needs and logs nothing unless the person
asks for a referral code. Every step has Back and Cancel; a button from an earlier
conversation answers "this step has expired" and changes nothing.

One module per part of the flow, none importing a module that imports it (Back re-asks a
question, and the location step's typed Back and Cancel go through navigation):
- shared: replies, need labels and the stale-button guard; imported by all the others;
- prompts: how the conversation starts and each step's question;
- answers: the button answers (imports prompts);
- results: search, results page and referral;
- navigation: Back, language, Cancel, wrong input, timeout (imports prompts and results);
- location: shared and typed places (imports results and navigation);
- conversation: the ConversationHandler (imports them all);
- idle: the sweep that ends idle conversations (imports navigation).
"""

from handlers.checklist.conversation import build_checklist_handler
from handlers.checklist.idle import IdleClock
from handlers.checklist.prompts import overdose_steps

__all__ = ["IdleClock", "build_checklist_handler", "overdose_steps"]
