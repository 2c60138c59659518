# TensorFlow Serving: input_handler and output_handler.
def input_handler(data, context):
    return data


def output_handler(response, context):
    return response
