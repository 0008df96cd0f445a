"""Disaster recovery (SP/SM 6, 10.1.1): the Board's register of business processes, the
core ones with their maximum outage and recovery time objective (SM 6.2: revocation
services 27 hours); the recovery plan in versions adopted by Board decision, run as a
checklist that times each step; exercises measured against the objectives; and the Key
Persons List, exported encrypted with GnuPG to each key person's key (and as a PDF inside
the same encryption), so it is usable when secman itself is down (SM 6.4)."""
