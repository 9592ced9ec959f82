"""Where latent vectors come from: one small interface, `sample(n, seed) -> z`.

`PriorSampler` draws from the prior N(0, I) with a temperature; `GaussianMixtureSampler`
from a mixture fitted to a trained model's codes; `PoolSampler` from the pool of one class of
a `LatentPools`. A model decodes any of them with `model.sample(n, seed=..., sampler=...)`.
Samplers save to a JSON file beside the model and `load_sampler` reads them back.

Example:
```python
from keras_vae.samplers import GaussianMixtureSampler, load_sampler

mixture = GaussianMixtureSampler.fit(vae, x_train, n_components=10, seed=0)
mixture.save("run/mixture.json")
images = vae.sample(64, seed=0, sampler=load_sampler("run/mixture.json", vae.latent_dim))
```
"""

from keras_vae.samplers.base import Sampler, load_sampler, register_sampler
from keras_vae.samplers.mixture import GaussianMixtureSampler
from keras_vae.samplers.pool import PoolSampler
from keras_vae.samplers.prior import PriorSampler

__all__ = [
    "GaussianMixtureSampler",
    "PoolSampler",
    "PriorSampler",
    "Sampler",
    "load_sampler",
    "register_sampler",
]
