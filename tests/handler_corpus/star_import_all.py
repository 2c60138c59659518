# from x import * with __all__ binds only the names it lists.
from helper_all import *
