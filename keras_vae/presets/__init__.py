"""Named configurations and pretrained models: one registry, `from_preset`, `save_to_preset`.

`PRESETS` (read from `registry.json`) names every preset with its description. A
configuration (`micro` and `tiny`, the board-sized decoders; `recommended`, the networks of
the best test likelihood) builds an untrained `VAE`; a pretrained preset (`mnist_digits`)
is a preset folder shipped in the package: config, weights and fitted sampler.
`VAE.from_preset(name_or_directory)` reads either; `vae.save_to_preset(directory)` writes
a folder of your own (layout in `keras_vae.presets.folder`).

The board-sized presets keep the default architecture and shrink what costs bytes (measured
in `benchmarks/micro.py`): the default `Decoder` puts most of its weights in one `Dense`
projection to a 7x7x64 feature map and its int8 file needs about a megabyte of flash.

Example:
<!-- skip: trains 30 epochs and builds a C array with TFLM -->
```python
digits = keras_vae.VAE.from_preset("mnist_digits").sample(16, seed=0)

vae = keras_vae.VAE.from_preset("micro", latent_dim=8)  # = keras_vae.presets.micro_vae(8)
vae.compile()
vae.fit(images, epochs=30)
keras_vae.export.export_decoder(vae, "firmware", formats=("int8",), c_array=True)
```
"""

from keras_vae.presets.configurations import (
    DECODER_PRESETS,
    MODEL_PRESETS,
    decoder,
    micro_vae,
    model,
    tiny_vae,
    vae,
)
from keras_vae.presets.folder import save_to_preset
from keras_vae.presets.registry import (
    PRESETS,
    configuration_names,
    preset_directory,
    preset_names,
    pretrained_names,
)


def list_presets() -> dict:
    """Every preset's name and description, in the registry's order."""
    return {name: entry["description"] for name, entry in PRESETS.items()}


__all__ = [
    "DECODER_PRESETS",
    "MODEL_PRESETS",
    "PRESETS",
    "configuration_names",
    "decoder",
    "list_presets",
    "micro_vae",
    "model",
    "preset_directory",
    "preset_names",
    "pretrained_names",
    "save_to_preset",
    "tiny_vae",
    "vae",
]
