# The meeting pages.
