"""Compliance: the controls every app declares, recurring duties, section status and the
audit report.

Serves SP/SM 1.2 (principles: redundancy, authority, two people), 4.2.2 and 4.2.3 (log
review), 4.3.7 (escrow checks), 5.2 (log monitoring) and, through the controls other apps
declare in their `controls.py`, every section those name. Status is computed from
records and Event Log entries; nobody ticks a box to make a section green.
"""
