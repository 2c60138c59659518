# An alias of an async def is still a coroutine function.
async def _load(model_dir):
    pass

model_fn = _load
