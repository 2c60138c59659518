# Python 2 ur"" prefix.
TEXT = ur"\d+"
