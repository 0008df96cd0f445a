"""Software assessment (SP/SM 7): changes read from a real git repository, reviewed by
people who did not write them (as many reviews as the change's risk needs), assessed
against the coding guidelines, tested on the test system, released only when every
commit in the release was reviewed, and deployed on the critical system under four eyes:
one person of Software Assessment and one of Systems Administration."""
