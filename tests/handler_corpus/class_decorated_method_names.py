# Handler names in a class and under a def, plus one at module level.
class Service:
    @staticmethod
    def input_fn(body, content_type):
        pass


def output_fn(prediction, accept):
    pass
