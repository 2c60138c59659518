# A fallback def after a guarded import: smpack reports the last binding in source order
# (the except branch) and marks it conditional; CPython takes the import.
try:
    from helper_basic import model_fn
except ImportError:
    def model_fn(model_dir, context, extra):
        pass
