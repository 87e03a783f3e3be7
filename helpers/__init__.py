"""The small library behind *Inside the LSTM*.

Each module holds one idea and names the chapter that explains it. Importing the
package quiets TensorFlow's C++ logging before TensorFlow is first imported, so
executed pages show no log noise.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# oneDNN reorders float sums between runs; switching it off keeps numbers repeatable.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")



def _register_layers() -> None:
    """Make ``AttentionPooling`` loadable by ``keras.models.load_model`` once Keras is imported.

    Importing Keras (and TensorFlow) here would make ``import helpers`` slow for
    tools that never touch a model, so the registration runs when Keras is first
    imported (or now, if it already is): a saved attention model then reloads
    after ``import helpers`` in any order.
    """
    import importlib.abc
    import importlib.util
    import sys

    if "keras" in sys.modules:
        import helpers.layers  # noqa: F401
        return

    class _AfterKeras(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name != "keras" or self not in sys.meta_path:
                return None
            # TensorFlow also asks for keras' spec without importing it, so the finder stays
            # in place until keras is really executed.
            sys.meta_path.remove(self)
            try:
                spec = importlib.util.find_spec("keras")
            finally:
                sys.meta_path.insert(0, self)
            if spec is None or spec.loader is None:
                return spec
            load = spec.loader.exec_module

            def exec_module(module):
                load(module)
                if self in sys.meta_path:
                    sys.meta_path.remove(self)
                import helpers.layers  # noqa: F401  (registers AttentionPooling)

            spec.loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, _AfterKeras())


_register_layers()



def load_model(path):
    """A saved Keras model, the book's own layers included: ``keras.models.load_model(path)``.

    Explained in chapter 3 (attention). ``AttentionPooling`` is registered with Keras
    under the package name ``helpers`` when :mod:`helpers.layers` is imported; plain
    ``keras.models.load_model`` in a process that never imported it fails with
    ``Could not locate class 'AttentionPooling'`` buried mid-message. This function
    imports the layer first, so the model loads in any fresh process.
    """
    import keras

    import helpers.layers  # noqa: F401  (registers AttentionPooling)

    return keras.models.load_model(path)


__all__ = [
    "arma",
    "attention",
    "check_setup",
    "checks",
    "compare",
    "data",
    "engine",
    "examples",
    "gradients",
    "hidden",
    "layers",
    "levels",
    "masks",
    "lstm_relevance",
    "lstm_stack",
    "models",
    "perturbation",
    "plotting",
    "prefix",
    "prefix_tree",
    "quiet",
    "removal",
    "scaling",
    "scores",
    "shapley",
    "tsr",
    "validation",
]
