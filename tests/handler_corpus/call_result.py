# A handler made by a factory call: smpack cannot know its signature.
def make(n):
    def handler_fn(data, model):
        return data
    return handler_fn

predict_fn = make(2)
