"""A docstring that shows code:

def model_fn(a, b, c):
    pass
"""

TEMPLATE = '''
def predict_fn(x):
    return x
'''


def output_fn(prediction, accept):
    """def transform_fn(m, d, c, a): nothing here is code"""
    return prediction
