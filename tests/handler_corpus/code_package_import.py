# from code.x import ...: resolved with the archive root on sys.path.
from code.helper_basic import model_fn
