# A def inside a loop body that runs once.
for _ in range(1):
    def input_fn(body, content_type):
        pass
