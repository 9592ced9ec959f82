"""Benchmark-only PyTorch mirror of the package's default `VAE`, for `torch_race.py`.

Layer for layer the default `keras_vae.Encoder` and `keras_vae.Decoder` (conv architecture,
`conv_filters` (32, 64) / (64, 32), one dense layer of 256 units, relu, nearest-neighbour
upsampling followed by a 3x3 convolution, unactivated logits), with what makes two frameworks
compute the same function:

- TensorFlow's `padding="same"` pads a stride-2 convolution of an even-sized image by 0 at
  the top/left and 1 at the bottom/right; PyTorch's `padding=1` would pad 1 on both sides and
  shift every feature map by a pixel. `SamePadConv2d` pads the way TensorFlow does.
- Keras flattens and reshapes channels-last; the modules permute to channels-last around
  `Flatten`/`Reshape`, so a Keras weight copied in (`load_keras_weights`) gives the same
  outputs.
- Initialisation as Keras: Glorot-uniform kernels (PyTorch's fan-in/fan-out of a convolution
  is Keras's), zero biases. Optimiser as `keras_vae`'s `compile()`: Adam, learning rate 1e-3,
  Keras's epsilon 1e-7.
- Loss as `VAE`: Bernoulli log-likelihood of the logits summed over pixels plus the
  closed-form KL to N(0, I), averaged over the batch.

Images are NCHW float32 tensors here; `to_nchw` converts the package's NHWC arrays.
Never imported by `keras_vae`: torch is an optional benchmark extra (`pip install
keras-vae[bench]`), not a dependency.
"""

import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

KERAS_ADAM_EPSILON = 1e-7


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's `padding="same"` for one axis: (before, after), the extra pixel after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SamePadConv2d(nn.Module):
    """`Conv2d` padded as TensorFlow's `padding="same"` on an input of known height, width."""

    def __init__(self, in_channels, out_channels, kernel, stride, input_size):
        super().__init__()
        (top, bottom), (left, right) = (same_padding(s, kernel, stride) for s in input_size)
        self.pad = (left, right, top, bottom)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel, stride=stride)

    def forward(self, x):
        return self.conv(F.pad(x, self.pad))


class TorchEncoder(nn.Module):
    def __init__(self, latent_dim=16, image_shape=(28, 28, 1), conv_filters=(32, 64),
                 dense_units=(256,), kernel=3):  # fmt: skip
        super().__init__()
        height, width, channels = image_shape
        convs = []
        for filters in conv_filters:
            convs.append(SamePadConv2d(channels, filters, kernel, 2, (height, width)))
            height, width, channels = math.ceil(height / 2), math.ceil(width / 2), filters
        self.convs = nn.ModuleList(convs)
        units, dense = height * width * channels, []
        for hidden in dense_units:
            dense.append(nn.Linear(units, hidden))
            units = hidden
        self.dense = nn.ModuleList(dense)
        self.z_mean = nn.Linear(units, latent_dim)
        self.z_log_var = nn.Linear(units, latent_dim)

    def forward(self, x):
        for conv in self.convs:
            x = F.relu(conv(x))
        x = x.permute(0, 2, 3, 1).flatten(1)  # Keras flattens channels-last
        for layer in self.dense:
            x = F.relu(layer(x))
        return self.z_mean(x), self.z_log_var(x)


class TorchDecoder(nn.Module):
    def __init__(self, latent_dim=16, image_shape=(28, 28, 1), conv_filters=(64, 32),
                 dense_units=(256,), kernel=3):  # fmt: skip
        super().__init__()
        height, width, channels = image_shape
        factor = 2 ** len(conv_filters)
        self.base = (height // factor, width // factor, conv_filters[0])
        units, dense = latent_dim, []
        for hidden in dense_units:
            dense.append(nn.Linear(units, hidden))
            units = hidden
        self.dense = nn.ModuleList(dense)
        self.project = nn.Linear(units, math.prod(self.base))
        size, in_channels, convs = self.base[:2], self.base[2], []
        for filters in conv_filters:
            size = (size[0] * 2, size[1] * 2)
            convs.append(SamePadConv2d(in_channels, filters, kernel, 1, size))
            in_channels = filters
        self.convs = nn.ModuleList(convs)
        self.logits = SamePadConv2d(in_channels, channels, kernel, 1, size)

    def forward(self, z):
        x = z
        for layer in self.dense:
            x = F.relu(layer(x))
        x = F.relu(self.project(x))
        x = x.view(-1, *self.base).permute(0, 3, 1, 2)  # Keras reshapes channels-last
        for conv in self.convs:
            x = F.relu(conv(F.interpolate(x, scale_factor=2, mode="nearest")))
        return self.logits(x)


class TorchVAE(nn.Module):
    """The default `keras_vae.VAE` networks and objective, in PyTorch."""

    def __init__(self, latent_dim=16, image_shape=(28, 28, 1)):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = TorchEncoder(latent_dim, image_shape)
        self.decoder = TorchDecoder(latent_dim, image_shape)
        for module in self.modules():
            if isinstance(module, nn.Linear | nn.Conv2d):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    def losses(self, x):
        """Per-example (negative ELBO, reconstruction, KL) for one posterior sample each."""
        z_mean, z_log_var = self.encoder(x)
        z = z_mean + torch.exp(0.5 * z_log_var) * torch.randn_like(z_mean)
        logits = self.decoder(z)
        reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
        reconstruction = reconstruction.flatten(1).sum(1)
        kl = -0.5 * (1 + z_log_var - z_mean.square() - z_log_var.exp()).sum(1)
        return reconstruction + kl, reconstruction, kl

    def decode(self, z):
        """The mean of p(x | z): the sigmoid of the logits, NCHW."""
        return torch.sigmoid(self.decoder(z))


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def to_nchw(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(np.transpose(images, (0, 3, 1, 2))))


def load_keras_weights(torch_module: nn.Module, keras_layer) -> None:
    """Copies a Keras network's weights in, in creation order (kernels transposed)."""
    keras_weights = [np.asarray(w) for w in keras_layer.weights]
    torch_params = list(torch_module.parameters())
    if len(keras_weights) != len(torch_params):
        raise ValueError(
            f"load_keras_weights() expects networks with the same number of weight tensors;"
            f" got {len(keras_weights)} (Keras) and {len(torch_params)} (PyTorch)."
        )
    with torch.no_grad():
        for value, param in zip(keras_weights, torch_params):
            if value.ndim == 4:  # (kh, kw, in, out) -> (out, in, kh, kw)
                value = value.transpose(3, 2, 0, 1)
            elif value.ndim == 2:  # (in, out) -> (out, in)
                value = value.T
            if tuple(value.shape) != tuple(param.shape):
                raise ValueError(
                    f"load_keras_weights() expects matching shapes; got {value.shape} (Keras)"
                    f" for {tuple(param.shape)} (PyTorch)."
                )
            param.copy_(torch.from_numpy(np.ascontiguousarray(value)))


def make_optimizer(model: TorchVAE) -> torch.optim.Optimizer:
    return torch.optim.Adam(model.parameters(), lr=1e-3, eps=KERAS_ADAM_EPSILON)


def train_epoch(model, optimizer, images: torch.Tensor, batch_size: int, generator) -> float:
    """One shuffled epoch; returns the seconds it took."""
    model.train()
    start = time.perf_counter()
    order = torch.randperm(len(images), generator=generator)
    for i in range(0, len(images), batch_size):
        batch = images[order[i : i + batch_size]]
        loss = model.losses(batch)[0].mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


@torch.inference_mode()
def negative_elbo(model, images: torch.Tensor, batch_size: int = 256) -> float:
    """Mean negative ELBO (one posterior sample per image), nats per image."""
    model.eval()
    total = 0.0
    for i in range(0, len(images), batch_size):
        total += float(model.losses(images[i : i + batch_size])[0].sum())
    return total / len(images)


@torch.inference_mode()
def decode_seconds(model, latents: torch.Tensor, batch_size: int) -> float:
    """Seconds to decode `latents` to images in batches (the work of `keras_vae`'s decode)."""
    model.eval()
    start = time.perf_counter()
    for i in range(0, len(latents), batch_size):
        model.decode(latents[i : i + batch_size])
    return time.perf_counter() - start
