# A module-level staticmethod is callable (3.10+) and keeps the signature.
@staticmethod
def input_fn(body, content_type):
    pass
