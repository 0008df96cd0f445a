"""Documents: the Security Policy, the Security Manual and procedures as versioned trees
of numbered sections.

Serves SP 1.4 (documents and version control): 1.4.1 the Security Policy document,
1.4.2 the Security Manual document ("Section Headings are the same in both documents",
hence the side-by-side view by section number), 1.4.3 the Security Procedures; and
SP 1.2 (every published change carries an authority and a second person).

The parsing, comparing and exporting modules (`tree`, `importers`, `compare`, `export`)
need no database, so `secman docs compare A B` works on two plain files.
"""
