"""The Event Log: one append-only, hash-chained entry for every action.

Serves SP 1.2 ("logging -- where events are recorded"), SP 4.2.1 ("All sensitive events
should be logged reliably") and SM 4.2 (timestamps, logs are write-only, read-only view).
"""
