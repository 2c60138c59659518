# Python 2 long integer suffix.
BIG = 10L
