# Compatibility characters normalise to ASCII handler names (NFKC).
def ｍｏｄｅｌ_fn(model_dir):
    pass


def 𝐩𝐫𝐞𝐝𝐢𝐜𝐭_fn(data, model):
    pass


def ℎandler(data, context):
    pass

ｏｕｔｐｕｔ＿ｆｎ = lambda prediction, accept: prediction
ﬁle_name = "x"
