"""Decoder and VAE configurations sized for microcontrollers, from the public constructors.

The default `Decoder` puts most of its weights in one `Dense` projection from the hidden
units to a 7x7x64 feature map, and its widest feature maps at full resolution; its int8
file needs about a megabyte of flash. These presets keep the architecture and shrink what
costs bytes: no hidden dense layer (the projection reads the latent vector directly), a
narrow base feature map, and few channels where the maps are large (the tensor arena holds
the two largest maps alive at once). Measured in `benchmarks/micro.py`.

Example:
<!-- skip: trains 30 epochs and builds a C array with TFLM -->
```python
vae = keras_vae.presets.micro_vae(latent_dim=8)
vae.compile()
vae.fit(images, epochs=30)
keras_vae.export.export_decoder(vae, "firmware", formats=("int8",), c_array=True)
```
"""

import keras

from keras_vae.layers.decoder import Decoder
from keras_vae.models.vae import VAE

# Constructor arguments of each preset's decoder (everything else is the default).
DECODER_PRESETS = {
    # int8 target: <= 150 KB flash, <= 48 KB tensor arena, PSNR >= 30 dB against Keras.
    "micro": {"conv_filters": (32, 16), "dense_units": (64,)},
    # int8 aim: 32 KB flash, 16 KB tensor arena.
    "tiny": {"conv_filters": (8, 4), "dense_units": ()},
}


# Every configuration `keras-vae train --preset NAME` trains (`keras_vae_cli.parser.PRESETS`
# is the same tuple; a test checks).
MODEL_PRESETS = ("micro", "tiny", "recommended")


def model(
    preset: str, latent_dim: int = 8, input_shape=(28, 28, 1), prior_components: int = 0, **kwargs
) -> keras.Model:
    """The `VAE` of a name in `MODEL_PRESETS`: a board-sized decoder (`micro`, `tiny`) or
    `keras_vae.recommended_vae` (whose learned prior has 20 components unless
    `prior_components` says otherwise); `prior_components > 0` gives the board-sized ones a
    learned `MixturePrior`; `kwargs` go to `VAE`."""
    if preset not in MODEL_PRESETS:
        raise ValueError(
            f"keras_vae.presets.model() expects `preset` in {MODEL_PRESETS}; got {preset!r}."
        )
    if preset == "recommended":
        from keras_vae.models.recommended import recommended_vae

        if prior_components:
            kwargs["prior_components"] = prior_components
        return recommended_vae(latent_dim=latent_dim, input_shape=tuple(input_shape), **kwargs)
    if prior_components:
        from keras_vae.layers.mixture_prior import MixturePrior

        kwargs["prior"] = MixturePrior(
            latent_dim, num_components=prior_components, seed=kwargs.get("seed")
        )
    return vae(preset, latent_dim, tuple(input_shape), **kwargs)


def _check_preset(preset: str) -> dict:
    if preset not in DECODER_PRESETS:
        raise ValueError(
            f"keras_vae.presets expects `preset` in {sorted(DECODER_PRESETS)}; got {preset!r}."
        )
    return DECODER_PRESETS[preset]


def decoder(preset: str, latent_dim: int = 8, output_shape=(28, 28, 1), **kwargs) -> Decoder:
    """A `Decoder` of the named preset (`"micro"` or `"tiny"`); `kwargs` go to `Decoder`."""
    arguments = {**_check_preset(preset), "name": "decoder", **kwargs}
    return Decoder(latent_dim=latent_dim, output_shape=output_shape, **arguments)


def vae(preset: str, latent_dim: int = 8, input_shape=(28, 28, 1), **vae_kwargs) -> keras.Model:
    """A `VAE` with the default encoder and the preset's decoder; `vae_kwargs` go to `VAE`."""
    return VAE(
        decoder=decoder(preset, latent_dim, input_shape),
        latent_dim=latent_dim,
        input_shape=input_shape,
        **vae_kwargs,
    )


def micro_vae(latent_dim: int = 8, **vae_kwargs) -> keras.Model:
    """The board-sized VAE (`preset="micro"`); sizes and quality in benchmarks/micro.py."""
    return vae("micro", latent_dim, **vae_kwargs)


def tiny_vae(latent_dim: int = 8, **vae_kwargs) -> keras.Model:
    """The smallest tier (`preset="tiny"`); where it breaks is in benchmarks/micro.py."""
    return vae("tiny", latent_dim, **vae_kwargs)
