# f-strings with nested quotes, braces and format specs; handler-like text in strings.
name = "x"
width = 10
a = f"{name!r:>{width}} {{literal}} {'def model_fn(a):'} {f'{name}'}"
b = f'''{
    name
} def input_fn(x): '''
c = f"{3.14:{width}.{2}f} {dict(a=1)['a']} {[1, 2][0]:02d}"


def predict_fn(data, model):
    return f"{data!s}: {model}"
