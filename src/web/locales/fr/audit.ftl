# The audit pages.
