"""Authority and two-person control.

Serves SP 1.2 ("Authority -- every action is authorised by either a policy or by the
Arbitrator"; dual control, four eyes), SP 9.1.4 (Arbitrated Background Checks run by an
Arbitrator with a separate Case Manager) and SP 9.1.5 (Board authorisation, documented
deliberations and votes, abstentions).
"""
