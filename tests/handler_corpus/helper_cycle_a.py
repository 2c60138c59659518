# Helper module in an import cycle with helper_cycle_b.
import helper_cycle_b


def model_fn(model_dir):
    return helper_cycle_b
