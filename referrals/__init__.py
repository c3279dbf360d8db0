"""The anonymised referral log and what is made of it: the model (pathways, outcomes,
codes), the log (the only writer of outcomes), follow-up reminders, figures with
suppression, retention, the privacy rules and the coordinators' audit trail. No Telegram."""
