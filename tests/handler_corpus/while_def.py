# A def inside a while body that runs once.
while True:
    def output_fn(prediction, accept):
        pass
    break
