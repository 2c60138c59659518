# async def returns a coroutine when the toolkit calls it.
def model_fn(model_dir):
    pass


async def predict_fn(data, model):
    return data
