"""`python -m keras_vae.cli`: the `keras-vae` command (TensorFlow imported before parsing; the
console script `keras-vae` parses first)."""

import sys

from keras_vae.cli import main

sys.exit(main())
