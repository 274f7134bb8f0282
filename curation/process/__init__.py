"""Pure-Python processing core: normalisation, sample extraction, test hygiene, dedup, decontam.

Nothing in this package imports Django; the service layer calls these functions with plain values
taken from its rows (strings, lists, small dataclasses) and stores what comes back.
"""
