# String annotations that contain commas, colons and parentheses.
def model_fn(model_dir: "Dict[str, (int, str)]", context: 'x: y, z' = ")") -> "a, b":
    pass
