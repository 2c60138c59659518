# Non-ASCII text in strings and comments: “quotes”, ünïcödé, 表情 😀.
GREETING = "héllo “world” 😀"


def predict_fn(data, model):  # ünïcödé comment
    return GREETING
