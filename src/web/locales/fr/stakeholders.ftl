# The stakeholders pages.
