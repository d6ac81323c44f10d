# The board pages.
