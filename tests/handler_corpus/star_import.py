# from x import * binds every public name of x.
from helper_basic import *
