# Python 2 <> operator.
if 1 <> 2:
    pass
