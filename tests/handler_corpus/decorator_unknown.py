# A decorator from another package: the signature is unknown to smpack.
import some_monitoring_package


@some_monitoring_package.trace
def predict_fn(data, model):
    pass
