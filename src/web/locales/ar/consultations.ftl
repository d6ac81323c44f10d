# The consultations pages.
