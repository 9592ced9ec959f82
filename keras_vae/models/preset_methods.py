"""`from_preset` and `save_to_preset`, the preset methods every keras_vae model inherits.

The work is in `keras_vae.presets` (the registry, the preset folder), which builds models and
reads samplers and so sits above `models`; the methods import it when called.
"""


class PresetMixin:
    """Gives a model class `from_preset(name_or_directory)` and `save_to_preset(directory)`.

    A model loaded from a pretrained preset also carries `preset_sampler` (the folder's fitted
    sampler, `mixture.json`, or None), `preset_pools` (its `LatentPools`, or None) and
    `preset_metadata` (how it was trained, the versions that saved it).
    """

    preset_sampler = None
    preset_pools = None
    preset_metadata = None

    @classmethod
    def from_preset(cls, preset, **overrides):
        """A model from the preset registry or from a preset folder, in the keras-hub manner.

        A configuration name (`"micro"`, `"tiny"`, `"recommended"`) gives an untrained model
        of that configuration (as `keras_vae.presets.model`); a pretrained name
        (`"mnist_digits"`, shipped in the package) or a folder written by `save_to_preset`
        gives the trained model, with its fitted sampler as `model.preset_sampler`. The class
        named in the preset must be the calling class or a subclass of it
        (`keras_vae.BaseAutoEncoder.from_preset` reads any model).

        Args:
            preset: str or path. A name in `keras_vae.presets.PRESETS` or a preset folder.
            **overrides: constructor arguments to change: for a configuration those of
                `keras_vae.presets.model` (`latent_dim`, `seed`, `beta`...); for a trained
                preset keys of its saved config (`seed`, `name`...), which must leave the
                weights' shapes as saved.

        Example:
        ```python
        vae = keras_vae.VAE.from_preset("mnist_digits")
        digits = vae.sample(16, seed=0)
        more = vae.sample(16, seed=0, sampler=vae.preset_sampler)
        ```
        """
        from keras_vae.presets.folder import from_preset

        return from_preset(cls, preset, **overrides)

    def save_to_preset(self, directory, sampler=None, pools=None, metadata=None, overwrite=False):
        """Writes the model as a preset folder: `config.json`, `model.weights.h5` and the
        given sampler (`mixture.json`) and pools (`pools.npz`).

        Args:
            directory: str or path. A new or empty folder (any folder with `overwrite=True`).
            sampler: a `keras_vae.samplers` sampler, a `GaussianMixture`, or None. Defaults
                to `None`.
            pools: `keras_vae.LatentPools` or None. Defaults to `None`.
            metadata: dict of JSON values or None: how the model was trained. Defaults to
                `None`.
            overwrite: bool. Whether to replace a non-empty folder. Defaults to `False`.

        Example:
        ```python
        mixture = keras_vae.GaussianMixtureSampler.fit(vae, x_train, seed=0)
        vae.save_to_preset("presets/my_digits", sampler=mixture, metadata={"epochs": 20})
        again = keras_vae.VAE.from_preset("presets/my_digits")
        ```
        """
        from keras_vae.presets.folder import save_to_preset

        return save_to_preset(
            self, directory, sampler=sampler, pools=pools, metadata=metadata, overwrite=overwrite
        )
