# A module with nothing in it: the default handlers run.
