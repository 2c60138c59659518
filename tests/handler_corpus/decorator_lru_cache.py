# functools.lru_cache and functools.cache keep the signature.
import functools


@functools.lru_cache(maxsize=1)
def model_fn(model_dir):
    pass


@functools.cache
def input_fn(body, content_type):
    pass
