# Every string prefix, in any case.
a = r"\d" + R"\w" + u"x" + U"y"
b = b"x" + B"y" + br"\x" + Br"\x" + bR"x" + BR"x" + rb"x" + rB"x" + Rb"x" + RB"x"
c = f"{a}" + F"{a}" + fr"\{a}" + Fr"{a}" + fR"{a}" + FR"{a}" + rf"{a}" + rF"{a}" + Rf"{a}" + RF"{a}"
d = r"\"" + r'\''


def model_fn(model_dir):
    return a, b, c, d
