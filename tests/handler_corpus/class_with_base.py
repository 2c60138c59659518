# A class with a base: smpack cannot know the constructor signature.
import torch


class model_fn(torch.nn.Module):
    def __init__(self, model_dir):
        super().__init__()
