"""The torch engine's parts, shared by its programs (train.py, shapes.py, activations.py): one
package, so that the user's own modules (a `datasets.py`, a `utils.py` beside the model) never meet
a module of CNN Lab's under the same name."""
