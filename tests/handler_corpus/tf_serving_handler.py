# TensorFlow Serving: one handler(data, context).
def handler(data, context):
    return data
