"""The therapist's side: home programmes, progression, the history database and
reports."""
