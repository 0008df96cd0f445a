"""Support (SP/SM 8): Support Engineers have no inherent authority (SP 8.1-8.2), so each
action on a Member's account records its authority, the Member's own request (channel and
message) or an Arbitrator's instruction with its token (SM 8.4), and the restricted
interface it used; the roles they enable, declared in roles.toml, with the code-signing
role for Assurers only (SM 8.2.2); the Triage roster (SM 8.2.3); the support channels
and whether each is logged (SM 8.3, 8.4); and the decisions to file a dispute or not,
reviewed weekly by the Support team leader (SM 8.5)."""
