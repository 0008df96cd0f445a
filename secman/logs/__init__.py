"""The systems' logs (SP/SM 4.2, 5.1, 5.2, 3.1.3): collected by rsyslog, stored by retention
class (SM 4.2.1) as the leaves of a Merkle log of their own with signed checkpoints, read
only by Systems Administrators (SM 4.2.2), examined by Sigma rules whose matches become
anomalies (SM 5.2), and purged at the end of their retention unless a legal hold keeps
them (SM 4.4.2)."""
