"""Physical visits and the register of security codes and devices.

Serves SP/SM 2.3 (Physical Access: 2.3.1 authorisation, 2.3.2 access profiles, 2.3.3
logging, 2.3.4 emergency access, 2.3.5 codes & devices) and SP/SM 4.2.4 (a report of
every visit by the accessor and by the Access Engineer).
"""
