"""The `keras-vae` command: train, evaluate, sample from and export VAEs.

```bash
keras-vae train --dataset sample --epochs 10 --latent-dim 2 --output-dir runs/vae
keras-vae evaluate --model runs/vae --dataset mnist --num-samples 1000
keras-vae sample --model runs/vae --sampler mixture --n 16 --output-dir runs/vae/mixture
keras-vae sample --model runs/vae --pool 7 --n 16 --output-dir runs/vae/sevens
keras-vae export --model runs/vae --output-dir runs/vae/export
```

The half that runs before TensorFlow is the top-level `keras_vae_cli` (standard library only,
so `--help` answers at once): the parser, its options and the names it shares with the library.
Each command is a module here (`train`, `evaluate`, `sample`, `export`, `serve`, `firmware`)
with a `run(args)`, sharing `common` (data, the one model loader, output folders); `run`
dispatches to them and turns the errors a user can fix into one line (status 1; 2 for bad
usage). The imports run one way: this package imports the leaves of `keras_vae_cli`, and only
`keras_vae_cli.entry` (the console script) imports this package. The data options
(`--dataset`, `--data-dir`, `--batch-size`, `--seed`) and the training options (`--epochs`,
`--latent-dim`, `--beta`, `--output-dir`) come from `add_data_arguments` and
`add_training_arguments`, which `examples/mnist_vae.py` uses too, and resolve through
`keras_vae.data.resolve_data_source` in both.
"""

from keras_vae.cli.common import CommandError, load_model, prepare_output, resolve_data
from keras_vae.cli.run import main
from keras_vae.run_folder import HISTORY_FILE, MIXTURE_FILE, MODEL_FILE, POOLS_FILE
from keras_vae_cli import add_data_arguments, add_training_arguments, build_parser
from keras_vae_cli.arguments import non_negative_float, positive_int
from keras_vae_cli.parser import MODEL_TYPES

__all__ = [
    "HISTORY_FILE",
    "MIXTURE_FILE",
    "MODEL_FILE",
    "MODEL_TYPES",
    "POOLS_FILE",
    "CommandError",
    "add_data_arguments",
    "add_training_arguments",
    "build_parser",
    "load_model",
    "main",
    "non_negative_float",
    "positive_int",
    "prepare_output",
    "resolve_data",
]
