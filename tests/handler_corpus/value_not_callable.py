# Non-callable values: a falsy 0 makes the toolkit use its default.
predict_fn = 0
output_fn = "application/json"
