# match/case bodies (Python 3.10+) at module level.
match 1:
    case 1:
        def model_fn(model_dir):
            pass
    case _:
        pass
