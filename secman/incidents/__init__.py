"""Incidents (SP/SM 5, 4.4.3, 9.1.6): an incident opened from an anomaly of the systems'
logs, a security bug report or by hand; its severity by the SM 5.3.1 taxonomy; the
isolation step first for an intrusion; the warning mailed at once; escalation to an
Arbitration case; the investigation log, evidence with its chain of custody and a legal
hold on the logs of the period; the response checklists of SM 5.5 (declared as data in
checklists.toml); and the final report with its restricted appendix, kept indefinitely
and encrypted with GnuPG when sensitive."""
