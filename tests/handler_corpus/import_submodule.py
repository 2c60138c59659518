# import a.b binds a; a.b.name resolves through the submodule.
import helperpkg.impl

predict_fn = helperpkg.impl.predict_fn
