# Number literals of every kind (none of them Python 2).
values = [0, 00, 0_0, 1_000, 0x_FF, 0o17, 0b1010, 1.5e-3, .5, 5., 1j, 2.5J, 1e10, 0777.5, 0e0]


def model_fn(model_dir):
    return values
