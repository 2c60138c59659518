# Python 2 octal literal.
MODE = 0777
