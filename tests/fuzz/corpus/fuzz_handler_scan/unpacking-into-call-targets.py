a, (b)(c) = f()
for (x)[0], [y] in z: pass
