# async def with context and an async lambda-free alias; a plain def beside it.
async def model_fn(model_dir, context=None):
    pass


async def _out(prediction, accept):
    pass

output_fn = _out


def input_fn(body, content_type):
    pass
