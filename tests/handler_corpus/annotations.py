# Annotations with brackets, defaults with dict literals, return annotations.
from typing import Dict, Tuple, Any


def input_fn(body: "str, bytes", content_type: Dict[str, int] = {"a": 1, "b": (2, 3)}) -> Tuple[int, str]:
    pass


def predict_fn(data: Any, model: "torch.nn.Module[int, str]") -> "Dict[str, Any]":
    pass
