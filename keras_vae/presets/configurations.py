"""The registry's configurations as models: untrained `VAE`s of a named configuration.

The board-sized decoders (`micro`, `tiny`) keep the default `Decoder` architecture and shrink
what costs bytes: no hidden dense layer before the projection to the first feature map, a
narrow base feature map, and few channels where the maps are large (the tensor arena holds
the two largest maps alive at once). `recommended` is `keras_vae.recommended_vae`.
"""

import inspect

import keras

from keras_vae.layers.decoder import Decoder
from keras_vae.models.base import BaseAutoEncoder
from keras_vae.models.vae import VAE
from keras_vae.presets.registry import PRESETS, configuration_names, preset_entry


def _decoder_arguments(entry: dict) -> dict:
    # JSON has lists; the constructors and their configs keep tuples.
    return {key: tuple(value) for key, value in entry["arguments"]["decoder"].items()}


# Constructor arguments of each board-sized preset's decoder (everything else the default).
DECODER_PRESETS = {
    name: _decoder_arguments(entry)
    for name, entry in PRESETS.items()
    if entry.get("builder") == "board_sized_vae"
}

# Every configuration `keras-vae train --preset NAME` trains (`keras_vae_cli.parser.PRESETS`
# reads the same registry file; a test checks).
MODEL_PRESETS = configuration_names()


def _check_preset(preset: str) -> dict:
    if preset not in DECODER_PRESETS:
        raise ValueError(
            f"keras_vae.presets expects `preset` in {sorted(DECODER_PRESETS)}; got {preset!r}."
        )
    return DECODER_PRESETS[preset]


def decoder(preset: str, latent_dim: int = 8, output_shape=(28, 28, 1), **kwargs) -> Decoder:
    """A `Decoder` of the named board-sized preset (`"micro"` or `"tiny"`).

    Args:
        preset: str. `"micro"` or `"tiny"`.
        latent_dim: int. Size of the latent vector. Defaults to `8`.
        output_shape: tuple. Shape of one image. Defaults to `(28, 28, 1)`.
        **kwargs: further `Decoder` arguments.
    """
    arguments = {**_check_preset(preset), "name": "decoder", **kwargs}
    return Decoder(latent_dim=latent_dim, output_shape=output_shape, **arguments)


def vae(preset: str, latent_dim: int = 8, input_shape=(28, 28, 1), **vae_kwargs) -> keras.Model:
    """A `VAE` with the default encoder and the board-sized preset's decoder.

    Args:
        preset: str. `"micro"` or `"tiny"`.
        latent_dim: int. Size of the latent vector. Defaults to `8`.
        input_shape: tuple. Shape of one image. Defaults to `(28, 28, 1)`.
        **vae_kwargs: further `VAE` arguments (`beta`, `prior`, `seed`...). `prior`
            defaults to `"standard_normal"` and `refit_prior_after_fit` to `False` here (the
            configuration as benchmarked; `VAE`'s own defaults are a learned mixture, refit).
    """
    # The board-sized configurations build and train as they did before `VAE`'s defaults
    # changed: N(0, I) unless a prior is given, no refit at the end of `fit`.
    vae_kwargs = {"prior": "standard_normal", "refit_prior_after_fit": False, **vae_kwargs}
    return VAE(
        decoder=decoder(preset, latent_dim, input_shape),
        latent_dim=latent_dim,
        input_shape=input_shape,
        **vae_kwargs,
    )


def _board_sized_vae(preset, latent_dim, input_shape, prior_components, **kwargs):
    if prior_components:
        from keras_vae.priors import MixturePrior

        kwargs["prior"] = MixturePrior(
            latent_dim, num_components=prior_components, seed=kwargs.get("seed")
        )
    return vae(preset, latent_dim, input_shape, **kwargs)


def _recommended_vae(preset, latent_dim, input_shape, prior_components, **kwargs):
    from keras_vae.models.recommended import recommended_vae

    if prior_components:
        kwargs["prior_components"] = prior_components
    return recommended_vae(latent_dim=latent_dim, input_shape=input_shape, **kwargs)


# The registry's `builder` names.
BUILDERS = {"board_sized_vae": _board_sized_vae, "recommended_vae": _recommended_vae}
# What a configuration chooses itself, so no override may: its networks.
_NETWORK_ARGUMENTS = ("encoder", "decoder", "architecture")
# Per builder, the arguments it takes beyond the `VAE` constructor's.
_BUILDER_ARGUMENTS = {"board_sized_vae": (), "recommended_vae": ("residual",)}


def _named_parameters(function) -> set:
    return {
        name
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)
    } - {"self"}


def accepted_arguments(preset: str) -> tuple:
    """The arguments `model(preset, ...)` accepts: the latent size, image shape and prior
    components, the `VAE` constructor's (not the networks, which the preset chooses), and
    the builder's own."""
    builder = preset_entry(preset, "keras_vae.presets.model()")["builder"]
    names = _named_parameters(VAE.__init__) | _named_parameters(BaseAutoEncoder.__init__)
    names |= {"latent_dim", "input_shape", "prior_components", "name", "dtype", "trainable"}
    names |= set(_BUILDER_ARGUMENTS[builder])
    return tuple(sorted(names - set(_NETWORK_ARGUMENTS)))


def check_arguments(preset: str, arguments: dict, owner: str) -> None:
    """Raises a `ValueError` naming an argument the configuration `preset` does not take."""
    accepted = accepted_arguments(preset)
    unknown = sorted(set(arguments) - set(accepted))
    if unknown:
        chosen = [name for name in unknown if name in _NETWORK_ARGUMENTS]
        why = (
            f"; the preset chooses its own networks ({', '.join(chosen)}): use VAE(...) to"
            " choose them yourself"
            if chosen
            else ""
        )
        raise ValueError(
            f"{owner} expects arguments among {list(accepted)} for the preset {preset!r}; got"
            f" {', '.join(f'`{name}`' for name in unknown)}{why}."
        )


def model(
    preset: str, latent_dim: int = 8, input_shape=(28, 28, 1), prior_components: int = 0, **kwargs
) -> keras.Model:
    """The untrained `VAE` of a configuration in the registry (a name in `MODEL_PRESETS`).

    A board-sized decoder (`micro`, `tiny`) with the default encoder, or
    `keras_vae.recommended_vae` (whose learned prior has 20 components unless
    `prior_components` says otherwise); `prior_components > 0` gives the board-sized ones a
    learned `MixturePrior`.

    Args:
        preset: str. A name in `MODEL_PRESETS`.
        latent_dim: int. Size of the latent vector. Defaults to `8`.
        input_shape: tuple. Shape of one image. Defaults to `(28, 28, 1)`.
        prior_components: int >= 0. Gaussians of a learned prior; 0 for the preset's own
            (N(0, I) for the board-sized ones). Defaults to `0`.
        **kwargs: further `VAE` arguments (`beta`, `free_bits`, `seed`...); `residual` for
            `recommended`.
    """
    if preset not in MODEL_PRESETS:
        raise ValueError(
            f"keras_vae.presets.model() expects `preset` in {MODEL_PRESETS}; got {preset!r}."
        )
    arguments = {"latent_dim": latent_dim, "input_shape": input_shape, **kwargs}
    return build(preset, f"keras_vae.presets.model({preset!r})", prior_components, **arguments)


def build(preset: str, owner: str, prior_components: int = 0, **arguments) -> keras.Model:
    """The untrained model of the configuration `preset`, its arguments checked first (the
    error names `owner`); `model()` and `from_preset()` both build through here."""
    check_arguments(preset, arguments, owner)
    latent_dim = arguments.pop("latent_dim", 8)
    input_shape = tuple(arguments.pop("input_shape", (28, 28, 1)))
    builder = BUILDERS[PRESETS[preset]["builder"]]
    return builder(preset, latent_dim, input_shape, prior_components, **arguments)


def micro_vae(latent_dim: int = 8, **vae_kwargs) -> keras.Model:
    """The board-sized VAE of the registry's `micro` entry; sizes and quality in
    benchmarks/micro.py.

    Args:
        latent_dim: int. Size of the latent vector. Defaults to `8`.
        **vae_kwargs: further `VAE` arguments.
    """
    return vae("micro", latent_dim, **vae_kwargs)


def tiny_vae(latent_dim: int = 8, **vae_kwargs) -> keras.Model:
    """The smallest tier, the registry's `tiny` entry; where it breaks is in
    benchmarks/micro.py.

    Args:
        latent_dim: int. Size of the latent vector. Defaults to `8`.
        **vae_kwargs: further `VAE` arguments.
    """
    return vae("tiny", latent_dim, **vae_kwargs)
