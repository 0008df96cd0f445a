"""People, teams, roles and access control lists.

Serves SP 1.1.1 (covered personnel), 1.3 (definition of terms), 3.4.2 (special
authorisation: the access control lists) and 9.1 (staffing: roles, staffing levels,
authorisation by the Board, termination).
"""
