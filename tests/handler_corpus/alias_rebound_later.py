# The alias keeps the function bound when it ran, not a later redefinition.
def _load(model_dir):
    pass

model_fn = _load


def _load(model_dir, context, extra):
    pass
